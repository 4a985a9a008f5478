"""Take a model home: its .keras file, and a train.py in plain Keras that trains the same network on the same data.

    export.model_bytes(model_id)      # the .keras file, checked
    export.project_zip(model_id)      # model.keras, train.py, data.npz, README.md in one zip
    export.export(model_id, folder)   # the same four files written into a new (or empty) folder
"""

import contextlib
import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from mnistlib import datasets, keras_code, lab_code, store
from mnistlib.models import ModelSpec

MODEL_FILE, SCRIPT_FILE, DATA_FILE, README_FILE = "model.keras", "train.py", "data.npz", "README.md"
# The entries every Keras 3 .keras file holds.
KERAS_ENTRIES = ("config.json", "model.weights.h5")


class ExportError(ValueError):
    """The export cannot be written where it was asked to go."""


def model_bytes(model_id: str) -> bytes:
    """The stored model's .keras file; CorruptModelError if it is missing or not a readable .keras archive."""
    try:
        data = store.model_bytes(model_id)
    except FileNotFoundError as error:
        raise store.CorruptModelError(f"Model {model_id} cannot be exported: its {MODEL_FILE} is missing. "
                                      "Delete it and train again.") from error
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            damaged = archive.testzip()
            missing = [name for name in KERAS_ENTRIES if name not in archive.namelist()]
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        damaged, missing = str(error), []
    if damaged or missing:
        raise store.CorruptModelError(f"Model {model_id} cannot be exported: its {MODEL_FILE} is damaged "
                                      f"({damaged or 'no ' + ', '.join(missing)}). Delete it and train again.")
    return data


def _card_and_data(model_id: str):
    """The model's card, its spec and the dataset it was trained on (the same subset)."""
    card = store.load_card(model_id)
    try:
        spec = ModelSpec.from_dict(card.spec)
    except (ValueError, TypeError) as error:
        raise store.CorruptModelError(f"Model {model_id} cannot be exported: its card's settings are damaged "
                                      f"({error}).") from error
    if not isinstance(card.epochs_run, int) or card.epochs_run < 1:
        raise store.CorruptModelError(f"Model {model_id} cannot be exported: its card says it ran "
                                      f"{card.epochs_run!r} epochs.")
    data = datasets.load(card.dataset, subset=card.subset)
    if len(data.y_test) != card.test_size:
        raise RuntimeError(f"Model {model_id} was tested on {card.test_size} {data.title} images, but the dataset "
                           f"now has {len(data.y_test)}: it has changed since, so train.py could not repeat it.")
    return card, spec, data


def check(model_id: str) -> None:
    """Raise the error an export of model_id would meet (bad id, damaged files, dataset not fetched); writes nothing."""
    _card_and_data(model_id)
    model_bytes(model_id)


def train_script(card, spec: ModelSpec, data) -> str:
    """train.py: plain Keras that trains card's network with its settings on data.npz (or keras.datasets), and the
    overfitting lab's settings when the card has them (lab_code)."""
    lab = lab_code.lab_of(card)
    if lab_code.describe(lab) != "—":
        return _lab_script(card, spec, data, lab)
    lines = [
        '"""',
        f"Title: Train MNIST Lab model {card.id} again with plain Keras",
        f"Description: The same network and settings, {card.epochs_run} epochs on the same images.",
        '"""',
        "",
        f"# Model: {card.name}",
        f"# {spec.describe()}, trained {card.epochs_run} epochs on {_training_images(spec, data)};",
        f"# MNIST Lab measured {card.test_accuracy:.2%} test accuracy on its {len(data.x_test):,} test images.",
        *_imports_and_data(card, data),
        'print(f"{len(x_train)} training images, {len(x_test)} test images")',
        "",
        '"""\n## Build the model\n"""',
        "",
        keras_code.model_code(spec, len(data.class_names), imports=False) + "model.summary()",
        "",
        '"""\n## Train\n"""',
        "",
        keras_code.compile_code(spec) + keras_code.fit_code(spec, card.epochs_run),
        '"""\n## Evaluate\n"""',
        "",
        keras_code.evaluate_code(),
    ]
    return "\n".join(lines)


def _imports_and_data(card, data) -> list[str]:
    """The lines every train.py shares after its header: the note on the order, the imports and the data."""
    return [
        "# MNIST Lab's own training loop takes the images in another random order than model.fit,",
        "# so the accuracy here may differ a little from the app's.",
        "",
        "import argparse",
        "from pathlib import Path",
        "",
        "import keras",
        "import numpy as np",
        "from keras import layers",
        "",
        '"""\n## Prepare the data\n"""',
        "",
        f"parser = argparse.ArgumentParser(description={_literal(f'Train MNIST Lab model {card.id} again.')})",
        *_data_lines(card, data),
    ]


def _lab_script(card, spec: ModelSpec, data, lab: dict) -> str:
    """train.py for a model trained with the overfitting lab: the same held-out validation images, then the same
    subset and wrong labels (MNIST Lab's own numpy, seeded alike), L2 on the kernels, the augmentation layers and
    early stopping, with model.fit; prints the validation accuracy to compare with the app's."""
    # With early stopping the card ran fewer epochs than asked; the script asks as many, to stop where it does.
    epochs = card.epochs_requested or card.epochs_run if lab["early_stopping"] else card.epochs_run
    validating = spec.validation_split > 0
    augmentation = lab_code.augmentation_lines() if lab["augment"] else None
    callbacks = lab_code.early_stopping_code(lab["early_stopping"]) if lab["early_stopping"] else ""
    lines = [
        '"""',
        f"Title: Train MNIST Lab model {card.id} again with plain Keras",
        f"Description: The same network, settings and overfitting-lab settings, {epochs} epochs.",
        '"""',
        "",
        f"# Model: {card.name}",
        f"# {spec.describe()}, up to {epochs} epochs on {_training_images(spec, data)};",
        f"# the overfitting lab's settings: {lab_code.describe(lab)}.",
        *([f"# MNIST Lab measured {card.val_accuracy:.2%} validation accuracy."] if card.val_accuracy is not None
          else []),
        *_imports_and_data(card, data),
        "",
        lab_code.split_code(spec.validation_split),
        lab_code.data_code(lab["train_images"], lab["label_noise"], spec.seed, len(data.class_names)),
        'print(f"{len(x_train)} training images, {len(x_val)} validation images, {len(x_test)} test images")',
        "",
        '"""\n## Build the model\n"""',
        "",
        keras_code.model_code(spec, len(data.class_names), imports=False, l2=lab["l2"], augmentation=augmentation)
        + "model.summary()",
        "",
        '"""\n## Train\n"""',
        "",
        keras_code.compile_code(spec) + "history = "
        + keras_code.fit_code(spec, epochs, validation_data=validating, callbacks=callbacks),
        *([lab_code.validation_code(lab["early_stopping"])] if validating else []),
        '"""\n## Evaluate\n"""',
        "",
        keras_code.evaluate_code(),
    ]
    return "\n".join(lines)


def _training_images(spec: ModelSpec, data) -> str:
    """E.g. "1,000 training images of MNIST digits (10% held back for validation)"."""
    held_back = f" ({spec.validation_split * 100:g}% held back for validation)" if spec.validation_split else ""
    return f"{len(data.x_train):,} training images of {data.title}{held_back}"


def _literal(text: str) -> str:
    """A double-quoted Python string literal for text."""
    return json.dumps(text, ensure_ascii=False)


def _data_lines(card, data) -> list[str]:
    """Reading data.npz, or (for MNIST and Fashion-MNIST, with --keras-datasets) downloading the full dataset."""
    from_file = [
        "# data.npz holds the images this model was trained and tested on: uint8, 0-255, shape (N, 28, 28).",
        'with np.load(Path(__file__).with_name("data.npz")) as data:',
        '    x_train, y_train = data["x_train"], data["y_train"]',
        '    x_test, y_test = data["x_test"], data["y_test"]',
    ]
    if card.dataset not in keras_code.KERAS_DATASETS:
        return ["parser.parse_args()", "", *from_file]
    help_text = "download all 70,000 images with keras.datasets instead of reading data.npz"
    lines = ['parser.add_argument("--keras-datasets", action="store_true",',
             f"                    help={_literal(help_text)})",
             "arguments = parser.parse_args()", ""]
    if len(data.x_train) != 60_000 or len(data.x_test) != 10_000:
        lines += [f"# This model saw {len(data.x_train):,} training and {len(data.x_test):,} test images: "
                  "with all of them (--keras-datasets)",
                  "# the accuracy will differ from the app's."]
    lines += ["if arguments.keras_datasets:", "    " + keras_code.data_code(card.dataset).strip(), "else:"]
    return lines + ["    " + line for line in from_file]


def readme(card, spec: ModelSpec, data) -> str:
    """Three lines: what the model is, how to load it, how to train it again."""
    download = (" (or `python train.py --keras-datasets` to download the whole dataset)"
                if card.dataset in keras_code.KERAS_DATASETS else "")
    return (
        f"{card.name}: MNIST Lab model {card.id}, {spec.describe()}, trained {card.epochs_run} epochs on "
        f"{_training_images(spec, data)}; test accuracy {card.test_accuracy:.2%} on {len(data.x_test):,} test images.\n"
        f'model.keras is the trained model: `keras.saving.load_model("model.keras")` loads it (Keras 3); '
        "it takes images of shape (N, 28, 28) divided by 255.\n"
        f"`python train.py` trains the same network again with plain Keras on data.npz{download} and prints "
        "its test accuracy; it needs `pip install keras tensorflow numpy`.\n"
    )


def data_npz(data) -> bytes:
    """data.npz: x_train, y_train, x_test, y_test (uint8) and class_names, compressed, readable without pickle."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, x_train=data.x_train, y_train=data.y_train.astype(np.uint8),
                        x_test=data.x_test, y_test=data.y_test.astype(np.uint8),
                        class_names=np.array(data.class_names, dtype=str))
    return buffer.getvalue()


def project_files(model_id: str) -> dict[str, bytes]:
    """The four exported files by name: model.keras, train.py, data.npz, README.md."""
    card, spec, data = _card_and_data(model_id)
    return {
        MODEL_FILE: model_bytes(model_id),
        SCRIPT_FILE: train_script(card, spec, data).encode(),
        DATA_FILE: data_npz(data),
        README_FILE: readme(card, spec, data).encode(),
    }


def project_zip(model_id: str) -> bytes:
    """A zip of the exported files inside a folder named after the model id (for a download button)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in project_files(model_id).items():
            # data.npz and model.keras are compressed already; deflating them again only costs time.
            method = zipfile.ZIP_DEFLATED if name in (SCRIPT_FILE, README_FILE) else zipfile.ZIP_STORED
            archive.writestr(f"mnist-lab-{model_id}/{name}", content, compress_type=method)
    return buffer.getvalue()


def _check_folder(folder: Path) -> None:
    """ExportError unless folder is new (its parent writable) or an empty folder we may write in."""
    if folder.exists() and not folder.is_dir():
        raise ExportError(f"{folder} is a file: give the path of a new folder to export into.")
    if folder.is_dir() and any(folder.iterdir()):
        raise ExportError(f"{folder} is not empty: give a new folder (it will be created) or empty this one; "
                          "the export never overwrites files.")
    existing = folder if folder.is_dir() else next(parent for parent in folder.parents if parent.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise ExportError(f"Cannot write in {existing}: choose a folder you may write to (e.g. in your home folder).")


def export(model_id: str, folder) -> list[Path]:
    """Write model.keras, train.py, data.npz and README.md into folder (new or empty); returns their paths."""
    folder = Path(folder).expanduser().absolute()
    _check_folder(folder)
    files = project_files(model_id)  # everything is read and checked before anything is written
    created = not folder.exists()
    written = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            # Each file appears whole or not at all: written under a hidden name, then renamed.
            partial = folder / f".{name}.partial"
            written.append(partial)
            partial.write_bytes(content)
            os.replace(partial, folder / name)
            written[-1] = folder / name
    except OSError as error:
        with contextlib.suppress(OSError):
            for path in written:
                path.unlink(missing_ok=True)
            if created:
                folder.rmdir()
        raise ExportError(f"Cannot write the export into {folder} ({error.strerror or error}); "
                          "choose a folder you may write to.") from error
    return written
