"""What runs where the training runs (a local worker process or a Dask worker): load the data, train, report.

The worker never writes the store: it returns an Outcome with the .keras file's bytes, the card's training
facts and the test probabilities, and the server stores them. So a Dask worker needs no shared filesystem:
only this project installed and the datasets fetched (or, for a class's own dataset, sent with the task).
"""

import os
import tempfile
import time
import traceback
from pathlib import Path

from mnistlib.training import events
from mnistlib.training.requests import TrainRequest

_datasets = {}  # (name, subset, checksum) -> Dataset, kept between jobs in this process


def warm_up() -> None:
    """Import TensorFlow and run the quick start's training (the default model) for one epoch on this process's data,
    so a real job starts at full speed: its functions compiled, its data resident, every step of a job done once
    (the first time each costs more). Tiny stand-in data when that dataset is not fetched here."""
    import numpy as np

    from mnistlib import config, datasets, models
    from mnistlib.training import fast_fit, loop

    spec = models.ModelSpec()
    try:
        data = dataset("mnist", config.subset())
    except (datasets.DataMissingError, datasets.DataCorruptError):
        fast = fast_fit.compiled_for(models.build(spec), spec)
        fast.precompile(64 * spec.batch_size)
        loop.keras_predict(fast.model, np.zeros((loop.PREDICT_BATCH, 28, 28), np.uint8))  # the final test predict
        return
    result = loop.train(models.build(spec), data, spec, 1, lambda *_: None, lambda *_: None, lambda: False)
    loop.keras_predict(result["model"], data.x_test)  # the final test predict


def dataset(name: str, subset: str, arrays=None):
    """The verified dataset, loaded once per process; arrays: a dataset sent with the task (a class's own data,
    on a cluster without the server's disk)."""
    from mnistlib import datasets

    cache_key = (name, subset, None if arrays is None else arrays.get("checksum"))
    if cache_key not in _datasets:
        _datasets[cache_key] = datasets.load(name, subset=subset) if arrays is None else \
            datasets.from_arrays(name, subset, arrays)
    return _datasets[cache_key]


def train(job_id: str, request: dict, emit, should_stop, where: str = "", arrays=None, read_word=None,
          parent=None) -> events.Outcome:
    """Train one request here. emit(event) reports Started/Progress/EpochEnd (and Paused/Resumed); should_stop() and
    read_word() (the job's Pause/Step word, pausing.py; None: nobody can pause it) are polled between chunks of
    steps; parent: the model a continuation starts from, {"model": .keras bytes, "history", "training_seconds",
    "request_key"} (continuing.parent_of).
    Every failure comes back as a Failed outcome with a student-readable message."""
    sent = [0]

    def counted(event) -> None:
        sent[0] += 1
        emit(event)

    try:
        if arrays is not None:  # a dataset sent with the task: known here before the request names it
            dataset(request["dataset"], request["subset"], arrays)
        outcome = _train(job_id, TrainRequest.from_dict(request), counted, should_stop, where, arrays, read_word,
                         parent)
    except Exception as error:  # every failure must reach the user as a message, never as a hang
        detail = "".join(traceback.format_exception_only(type(error), error)).strip()
        outcome = events.failed(f"Training failed: {detail}")
    # The server delivers that many events before it ends the job: the last ones may still be on their way.
    outcome.events_sent = sent[0]
    return outcome


def _train(job_id, request: TrainRequest, emit, should_stop, where, arrays, read_word=None, parent=None):
    from mnistlib import models
    from mnistlib.training import loop, pausing

    spec = request.spec
    data = dataset(request.dataset, request.subset, arrays)
    emit(events.Started(job_id, where))
    if request.kind == "find_learning_rate":
        return _find_learning_rate(job_id, spec, data, emit, should_stop)
    started = time.monotonic()
    # A continuation starts from its parent's weights and optimizer state; its epochs are numbered on from there.
    model = models.build(spec, num_classes=len(data.class_names), l2=request.l2)
    if parent:
        model = with_dropout_seeds(load_keras(parent["model"]), model)
    before = list(parent["history"]) if parent else []
    total = len(before) + request.epochs
    gate = pausing.PauseGate(job_id, read_word or (lambda: pausing.RUN), should_stop, emit)

    def on_progress(epoch, batch, batches, loss, accuracy, elapsed):
        gate.progress(epoch, batch, batches)
        emit(events.Progress(job_id, epoch, total, batch, batches, loss, accuracy, elapsed - gate.paused_seconds))

    def on_epoch_end(record, elapsed):
        gate.epoch_ended(record["epoch"])
        emit(events.EpochEnd(job_id, record["epoch"], total, record["loss"], record["accuracy"],
                             record["val_loss"], record["val_accuracy"], elapsed - gate.paused_seconds))

    part, lab_card = _lab_training_part(request, data), {}
    if part is not None:
        lab_card = {"train_images": len(part[1]), "label_noise": request.label_noise, "labels_changed": len(part[2])}
    try:
        result = loop.train(model, data, spec, request.epochs, on_progress, on_epoch_end, gate,
                            training_part=None if part is None else part[:2], l2=request.l2,
                            augment=request.augment, early_stopping=request.early_stopping,
                            first_epoch=len(before) + 1)
    except loop.LossNotFinite:
        return events.failed(
            f"The loss became NaN (not a number): with learning rate {spec.learning_rate:g} the weights grew "
            "until the numbers overflowed. Lower the learning rate (try 0.001) and train again.")
    model, history = result["model"], result["history"]
    kind = "Stopped" if result["stopped"] else "Finished"
    if not history:
        return events.Outcome(kind)
    # The card's test figures come from plain Keras predict, as anyone loading the .keras file would get.
    final = loop.keras_predict(model, data.x_test)
    test_loss, test_accuracy = loop.mean_loss_and_accuracy(final, data.y_test)
    probabilities = result["test_probabilities"]  # this job's epochs only: the server puts the parent's first
    probabilities[-1] = final.astype(probabilities.dtype)
    name = request.name or f"{data.title} · {spec.describe()}"
    seconds = time.monotonic() - started - gate.paused_seconds + (parent["training_seconds"] if parent else 0.0)
    card = {"name": name[:80], "dataset": data.name, "subset": data.subset, "spec": spec.to_dict(),
            "epochs_run": len(before) + len(history), "epochs_requested": total, "history": before + history,
            "test_loss": test_loss, "test_accuracy": test_accuracy, "test_size": len(data.y_test),
            "training_seconds": round(seconds, 2), "parameters": int(model.count_params()),
            "request_key": parent["request_key"] if parent else request.key(), **lab_card,
            **({"parent": request.parent} if request.parent else {})}
    lab, message = _lab_section(request, result, total)
    if lab:
        card["lab"] = lab
    return events.Outcome(kind, message=message, history=before + history, model=keras_bytes(model),
                          probabilities=probabilities, card=card, test_loss=test_loss, test_accuracy=test_accuracy,
                          hidden_map=result["hidden_map"])


def _lab_section(request: TrainRequest, result: dict, last_epoch: int) -> tuple[dict, str]:
    """The card's "lab" section (l2, augment, early_stopping when set; with early stopping, stopped_epoch: the
    last epoch run, best_epoch: whose weights were kept) and the sentence saying what early stopping did ("")."""
    from mnistlib.training import early_stopping

    settings = request.lab_settings()
    lab = {name: settings[name] for name in ("l2", "augment", "early_stopping") if name in settings}
    if "best_epoch" not in result:
        return lab, ""
    lab.update(stopped_epoch=result["stopped_epoch"], best_epoch=result["best_epoch"])
    return lab, early_stopping.outcome_sentence(result["stopped_epoch"], result["best_epoch"], last_epoch)


def _lab_training_part(request: TrainRequest, data):
    """(images, labels, relabelled indices) of the training part with the lab's settings, or None without them."""
    if request.train_images is None and request.label_noise == 0:
        return None
    from mnistlib.training import lab_data, loop

    (x_train, y_train), _ = loop.split_validation(data.x_train, data.y_train, request.spec.validation_split)
    return lab_data.training_part(x_train, y_train, request.train_images, request.label_noise, request.spec.seed,
                                  len(data.class_names))


def _find_learning_rate(job_id, spec, data, emit, should_stop) -> events.Outcome:
    """The learning-rate finder on the training part of the data (after the validation split); no model is kept."""
    from mnistlib import lr_finder, models
    from mnistlib.training import loop

    (x_train, y_train), _ = loop.split_validation(data.x_train, data.y_train, spec.validation_split)
    started = time.monotonic()

    def report(step, steps, learning_rate, loss, smoothed_loss) -> None:
        emit(events.RateProgress(job_id, step, steps, learning_rate, loss, smoothed_loss, time.monotonic() - started))

    model = models.build(spec, num_classes=len(data.class_names))
    curve = lr_finder.find_learning_rate(model, x_train, y_train, spec.batch_size, report, should_stop,
                                         seed=spec.seed)
    return events.Outcome("Stopped" if curve.ended == "stopped" else "Finished", result=curve.to_dict())


def load_keras(model_bytes: bytes):
    """A Keras model (compiled, with its optimizer's state) from the bytes of a .keras file."""
    import keras

    with tempfile.TemporaryDirectory(prefix="mnistlib-parent-") as folder:
        path = Path(folder) / "model.keras"
        path.write_bytes(model_bytes)
        return keras.saving.load_model(path)


def with_dropout_seeds(loaded, fresh):
    """loaded (a parent's .keras) with the dropout seeds its training had reached: a .keras file does not keep a
    SeedGenerator's state, so loading draws new ones. The training's are the freshly built model's seeds (the same
    spec seeds them), advanced by one draw per optimizer step (each Dropout draws once a step)."""
    steps = int(loaded.optimizer.iterations.numpy())
    for layer, built in zip(loaded.layers, fresh.layers, strict=True):
        generator, original = getattr(layer, "seed_generator", None), getattr(built, "seed_generator", None)
        if generator is not None and original is not None:
            state = original.state.numpy()
            state[1] = steps
            generator.state.assign(state)
    return loaded


def keras_bytes(model) -> bytes:
    """The model as the bytes of a .keras file (what the store keeps and a student downloads)."""
    with tempfile.TemporaryDirectory(prefix="mnistlib-model-") as folder:
        path = Path(folder) / "model.keras"
        model.save(path)
        return path.read_bytes()


def process_name() -> str:
    return f"{os.uname().nodename}, process {os.getpid()}"
