"""The command-line interface: each command is one small function over the library."""

import argparse
import sys

from mnistlib import cli_lab, cli_train, datasets


def progress_bar(done: int, total: int, message: str) -> None:
    """Draw a one-line progress bar on stderr (bytes when the total is known, a message otherwise)."""
    if total:
        width = 30
        filled = int(width * min(done / total, 1.0))
        sys.stderr.write(f"\r  [{'#' * filled}{'.' * (width - filled)}] {done / total:4.0%} {message[:50]:<50}")
        if done >= total:
            sys.stderr.write("\n")
    else:
        sys.stderr.write(f"\r  {message[:80]:<80}\n")
    sys.stderr.flush()


def command_fetch(arguments) -> int:
    names = [arguments.dataset] if arguments.dataset else list(datasets.REGISTRY)
    for name in names:
        folder = datasets.fetch(name, progress=progress_bar)
        print(f"{datasets.info(name).title}: verified in {folder}")
    return 0


def command_info(arguments) -> int:
    names = [arguments.dataset] if arguments.dataset else datasets.available()
    for name in names:
        data = datasets.load(name, subset=arguments.subset)
        print(f"{data.title} ({name}, {data.subset})")
        print(f"  training images: {data.x_train.shape}, {data.x_train.dtype}")
        print(f"  training labels: {len(data.y_train)}")
        print(f"  test images:     {data.x_test.shape}, {data.x_test.dtype}")
        print(f"  test labels:     {len(data.y_test)}")
        print(f"  classes:         {', '.join(data.class_names)}")
    return 0


def command_make_subset(arguments) -> int:
    names = [arguments.dataset] if arguments.dataset else list(datasets.REGISTRY)
    from mnistlib import subset

    for name in names:
        print(name, subset.write_small(name))
    return 0


def command_dataset_add(arguments) -> int:
    from mnistlib import importing

    entry = importing.import_file(arguments.path, arguments.name, title=arguments.title,
                                  test_fraction=arguments.test_fraction, progress=progress_bar)
    print(f"Added {entry.title} ({entry.name}): classes {', '.join(entry.class_names)}")
    for note in entry.notes:
        print(f"  {note}")
    print(f"Train a model on it: python -m mnistlib train --dataset {entry.name}")
    return 0


def command_dataset_list(arguments) -> int:
    for name in datasets.available():
        entry = datasets.info(name)
        kind = f"yours, from {entry.source}" if entry.custom else "built in"
        print(f"{name:<16} {entry.title} — {len(entry.class_names)} classes ({kind})")
    for name in sorted(set(datasets.custom_names()) - set(datasets.available())):
        print(f"{name:<16} (cannot be read: remove it with python -m mnistlib dataset remove {name})")
    return 0


def command_dataset_remove(arguments) -> int:
    datasets.remove(arguments.name)
    print(f"Removed the dataset {arguments.name}; models trained on it stay in the model store.")
    return 0


def command_models(arguments) -> int:
    from mnistlib import store

    entries = store.list_models(dataset=arguments.dataset)
    if not entries:
        print("No stored models yet: python -m mnistlib train --dataset mnist --epochs 5")
    for entry in entries:
        if isinstance(entry, store.BrokenModel):
            print(f"{entry.id}  (cannot be read: {entry.message})")
        else:
            print(f"{entry.id}  {entry.dataset:<13} {entry.epochs_run:>3} epochs  "
                  f"test accuracy {entry.test_accuracy:6.2%}  {entry.name}  (trained by {entry.trained_by or '?'})")
    return 0


def command_reindex(arguments) -> int:
    from mnistlib import store

    print(f"The store's index lists {store.rebuild()} model(s), rebuilt from their folders.")
    return 0


def _model_and_data(model_id: str):
    from mnistlib import store

    card = store.load_card(model_id)
    return card, datasets.load(card.dataset, subset=card.subset)


def command_evaluate(arguments) -> int:
    from mnistlib import evaluation, store

    card, data = _model_and_data(arguments.model_id)
    probabilities = store.load_probabilities(card.id)[-1]
    predicted = evaluation.predicted_labels(probabilities)
    print(f"{card.name}: test accuracy {evaluation.accuracy(data.y_test, predicted):.2%} on {len(predicted)} images")
    metrics = evaluation.per_class_metrics(data.y_test, predicted, num_classes=len(data.class_names))
    print(f"  {'class':<12} {'precision':>9} {'recall':>7} {'support':>7}")
    for label, name in enumerate(data.class_names):
        print(f"  {name:<12} {metrics['precision'][label]:9.3f} {metrics['recall'][label]:7.3f} "
              f"{metrics['support'][label]:7d}")
    print("Most confused (true -> predicted: count):")
    for true, guess, count in evaluation.most_confused(data.y_test, predicted, top=5,
                                                       num_classes=len(data.class_names)):
        print(f"  {data.class_names[true]} -> {data.class_names[guess]}: {count}")
    return 0


def command_predict(arguments) -> int:
    import numpy as np

    from mnistlib import store

    card, data = _model_and_data(arguments.model_id)
    if not 0 <= arguments.index < len(data.y_test):
        raise ValueError(f"--index must be between 0 and {len(data.y_test) - 1}")
    model = store.load_model(card.id)
    image = data.x_test[arguments.index : arguments.index + 1].astype("float32") / 255.0
    probabilities = model.predict(image, verbose=0)[0]
    for label, (name, probability) in enumerate(zip(data.class_names, probabilities, strict=True)):
        print(f"  {label} {name:<12} {probability:.4f}")
    predicted = int(np.argmax(probabilities))
    print(f"np.argmax -> {predicted} ({data.class_names[predicted]}); "
          f"true label {data.y_test[arguments.index]} ({data.class_names[data.y_test[arguments.index]]})")
    return 0


def command_export(arguments) -> int:
    from mnistlib import export

    paths = export.export(arguments.model_id, arguments.folder)
    folder = paths[0].parent
    print(f"Exported model {arguments.model_id} to {folder}: {', '.join(path.name for path in paths)}")
    print(f"Train it again with plain Keras: cd {folder} && python train.py")
    return 0


class OneLineParser(argparse.ArgumentParser):
    """Bad arguments end with one line on stderr (and exit status 2), not the usage text as well."""

    def error(self, message):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m mnistlib", description="MNIST Lab's model library.")
    commands = parser.add_subparsers(dest="command", required=True)

    fetch = commands.add_parser("fetch", help="download and verify the datasets")
    fetch.add_argument("--dataset", choices=list(datasets.REGISTRY))
    fetch.set_defaults(run=command_fetch)

    info = commands.add_parser("info", help="shapes of the training and test sets")
    info.add_argument("--dataset", choices=datasets.available())
    info.add_argument("--subset", choices=("full", "small"))
    info.set_defaults(run=command_info)

    from mnistlib.models import ARCHITECTURES, OPTIMIZERS, ModelSpec

    defaults = ModelSpec()  # one place for defaults: the spec
    train = commands.add_parser("train", help="train a model in a worker process and store it")
    train.add_argument("--dataset", choices=datasets.available(), default="mnist",
                       help="a built-in dataset or one of the class's own (default: %(default)s)")
    train.add_argument("--epochs", type=int, default=5, help="passes over the training images (default: %(default)s)")
    train.add_argument("--arch", choices=ARCHITECTURES, default=defaults.architecture,
                       help="dense: Flatten then Dense layers; cnn: two convolution blocks first (default: %(default)s)")
    train.add_argument("--units", type=int, default=defaults.hidden_units,
                       help="units in each hidden Dense layer, 1 to 1024 (default: %(default)s)")
    train.add_argument("--layers", type=int, default=defaults.hidden_layers,
                       help="hidden Dense layers, 1 to 5 (default: %(default)s)")
    train.add_argument("--dropout", type=float, help="fraction of units dropped in training, 0 to 0.9 "
                                                     "(default: 0 for dense, 0.25 for cnn)")
    train.add_argument("--optimizer", choices=OPTIMIZERS, default=defaults.optimizer,
                       help="how the weights move after each batch (default: %(default)s)")
    train.add_argument("--learning-rate", type=float, default=defaults.learning_rate,
                       help="size of each optimizer step (default: %(default)s)")
    train.add_argument("--batch-size", type=int, default=defaults.batch_size,
                       help="images per optimizer step (default: %(default)s)")
    train.add_argument("--validation-split", type=float, default=defaults.validation_split,
                       help="last fraction of the training images held back to choose by, 0 to 0.5 "
                            "(default: %(default)s)")
    train.add_argument("--seed", type=int, default=defaults.seed,
                       help="same seed and settings give the same model (default: %(default)s)")
    train.add_argument("--subset", choices=("full", "small"), help="small: the practice subset (default: the "
                                                                   "configured one)")
    train.add_argument("--name", help="the model's name in the lists (default: made from its settings)")
    train.add_argument("--student", help="whose list the model goes to (default: the teacher's)")
    cli_lab.add_arguments(train)
    train.set_defaults(run=cli_train.command_train)

    more = commands.add_parser("continue", help="train a stored model for more epochs (a new model: it names its "
                                                "parent and keeps its history)")
    more.add_argument("model_id", help="the stored model to continue (python -m mnistlib models lists them)")
    more.add_argument("--epochs", type=int, default=1, help="more passes over the training images, on from its "
                                                            "weights and optimizer state (default: %(default)s)")
    more.add_argument("--name", help="the new model's name (default: the parent's name + N epochs)")
    more.add_argument("--student", help="whose list the new model goes to (default: the teacher's)")
    more.set_defaults(run=cli_train.command_continue)

    reindex = commands.add_parser("reindex", help="rebuild the model store's index from its folders")
    reindex.set_defaults(run=command_reindex)

    listing = commands.add_parser("models", help="list stored models, newest first")
    listing.add_argument("--dataset", choices=datasets.available())
    listing.set_defaults(run=command_models)

    evaluate = commands.add_parser("evaluate", help="accuracy, per-class table and most-confused pairs")
    evaluate.add_argument("model_id")
    evaluate.set_defaults(run=command_evaluate)

    predict = commands.add_parser("predict", help="the probabilities of one test image and their argmax")
    predict.add_argument("model_id")
    predict.add_argument("--index", type=int, default=0)
    predict.set_defaults(run=command_predict)

    export = commands.add_parser("export", help="write a model's .keras file and a plain-Keras train.py into a folder")
    export.add_argument("model_id")
    export.add_argument("folder", help="a new or empty folder (it is created)")
    export.set_defaults(run=command_export)

    dataset = commands.add_parser("dataset", help="add, list or remove datasets of your own images")
    dataset_commands = dataset.add_subparsers(dest="dataset_command", required=True)
    add = dataset_commands.add_parser("add", help="a .zip of one folder per class, or an .npz, as a new dataset")
    add.add_argument("path", help="a .zip of class folders (optionally inside train/ and test/) or an .npz file")
    add.add_argument("--name", required=True, help="lower-case letters, digits, - and _ (e.g. my_digits)")
    add.add_argument("--title", help="the name shown in the app (default: the name)")
    add.add_argument("--test-fraction", type=float, default=0.2,
                     help="the share of each class kept for testing when the zip has no test/ folder (0.05 to 0.5)")
    add.set_defaults(run=command_dataset_add)
    dataset_commands.add_parser("list", help="the datasets, built in and yours").set_defaults(run=command_dataset_list)
    remove = dataset_commands.add_parser("remove", help="delete one of your datasets (its models stay)")
    remove.add_argument("name")
    remove.set_defaults(run=command_dataset_remove)

    make_subset = commands.add_parser("make-subset", help="rebuild the committed small subset")
    make_subset.add_argument("--dataset", choices=list(datasets.REGISTRY))
    make_subset.set_defaults(run=command_make_subset)

    from mnistlib import cli_class

    cli_class.add_commands(commands)
    return parser


def main(argv=None) -> int:
    """Run one command; errors become one line on stderr and exit status 1."""
    arguments = build_parser().parse_args(argv)
    try:
        return arguments.run(arguments)
    except (ValueError, LookupError, RuntimeError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
