"""Benchmark: the TensorFlow tutorial's plain model.fit against mnistlib's engine, same data, model and batch.

Run: .venv/bin/python benchmarks/bench_training.py [--epochs 5] [--dataset mnist]
Prints seconds per epoch for each, their ratio, both test accuracies, the time to predict the test set, and the
quick start's job on a fresh worker: its first epoch against the later ones.

The overfitting lab's settings (issue 19), each against the same configuration in plain model.fit:
    .venv/bin/python benchmarks/bench_training.py --augment [--epochs 3]
    .venv/bin/python benchmarks/bench_training.py --train-images 500 [--epochs 30]
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")



def epoch_timer(epoch_times: list):
    """A Keras callback class appending each epoch's seconds to epoch_times."""
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            epoch_times.append(time.perf_counter() - self.started)

    return EpochTimer

def tutorial(data, epochs: int) -> dict:
    """The tutorial's code as written: float64 input, batch 32, defaults."""
    import keras
    import numpy as np

    from mnistlib import models

    keras.utils.set_random_seed(0)
    model = models.build(models.ModelSpec(validation_split=0.0))
    epoch_times = []
    EpochTimer = epoch_timer(epoch_times)

    started = time.perf_counter()
    model.fit(data.x_train / 255.0, data.y_train, epochs=epochs, verbose=0, callbacks=[EpochTimer()])
    total = time.perf_counter() - started
    predicted = model.predict(data.x_test / 255.0, verbose=0).argmax(axis=1)
    return {"total": total, "epochs": epoch_times, "accuracy": float(np.mean(predicted == data.y_test))}


def timed_job(trainer, request) -> dict:
    """Run one request on trainer and time it from the worker's start: total seconds (to the model stored), each
    epoch's seconds (the first from the start, so it includes the job's set-up), test accuracy and model id."""
    from mnistlib import training

    job = trainer.submit(request)
    ends, started = [], None
    while (state := job.progress_since(10**9)).status not in training.ENDED:
        if started is None and state.status != "queued":
            started = time.perf_counter()
        if len(state.history) > len(ends):
            ends.append(time.perf_counter())
        time.sleep(0.005)
    total = time.perf_counter() - (started or time.perf_counter())
    if state.status != "finished" or state.reused:
        raise RuntimeError(f"engine run {state.status}: {state.message}")
    edges = [started, *ends]
    return {"total": total, "epochs": [b - a for a, b in zip(edges, edges[1:], strict=False)],
            "accuracy": state.test_accuracy, "model_id": state.model_id}


def engine(dataset: str, epochs: int) -> dict:
    """mnistlib's engine through the real worker process, as the dashboard and CLI use it: the tutorial's data (no
    validation split) on a worker that has trained it before (so these shapes are compiled), as on a running
    server."""
    from mnistlib import models, training

    trainer = training.Trainer()
    try:
        trainer.submit(training.TrainRequest(dataset, models.ModelSpec(validation_split=0.0), 1, subset="full")).wait()
        return timed_job(trainer, training.TrainRequest(dataset, models.ModelSpec(validation_split=0.0), epochs,
                                                        subset="full", name="benchmark"))
    finally:
        trainer.shutdown()


def quick_start(dataset: str, epochs: int = 5) -> dict:
    """The quick start's job (the default model and split) as the first job of a fresh worker. The job waits in the
    queue while the worker warms up (which compiles the quick start's shapes), so its time starts after that, as on
    a server that has been up for a few seconds."""
    from mnistlib import models, training

    trainer = training.Trainer()
    try:
        return timed_job(trainer, training.TrainRequest(dataset, models.ModelSpec(), epochs, subset="full"))
    finally:
        trainer.shutdown()


def predict_time(model_id: str, data, repeats: int = 5) -> tuple[float, float]:
    """Seconds to predict the whole test set with the stored model: first call and best of the next ones."""
    from mnistlib import store

    model = store.load_model(model_id)
    images = data.x_test.astype("float32") / 255.0
    started = time.perf_counter()
    model.predict(images, batch_size=1000, verbose=0)
    first = time.perf_counter() - started
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        model.predict(images, batch_size=1000, verbose=0)
        best = min(best, time.perf_counter() - started)
    return first, best


def lab_fit(data, epochs: int, augment: bool, train_images: int | None) -> dict:
    """The same configuration in plain model.fit, as a student writes it: the default model (behind Keras's
    preprocessing layers with augment), validation on the same held-out images, the lab's same training subset."""
    import keras
    import numpy as np
    from keras import layers

    from mnistlib import models
    from mnistlib.training import lab_data, loop

    spec = models.ModelSpec()
    (x_train, y_train), (x_val, y_val) = loop.split_validation(data.x_train, data.y_train, spec.validation_split)
    x_train, y_train, _ = lab_data.training_part(x_train, y_train, train_images, 0.0, spec.seed, 10)
    model = models.build(spec)
    if augment:
        keras.utils.set_random_seed(spec.seed)
        model = keras.Sequential([
            layers.Input(shape=(28, 28, 1)),
            layers.RandomTranslation(0.1, 0.1, fill_mode="constant"),
            layers.RandomRotation(10 / 360, fill_mode="constant"),
            layers.RandomZoom(0.1, fill_mode="constant"),
            *model.layers,
        ])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        x_train, x_val = x_train[..., None], x_val[..., None]
    epoch_times = []
    EpochTimer = epoch_timer(epoch_times)

    started = time.perf_counter()
    model.fit(x_train / 255.0, y_train, epochs=epochs, batch_size=spec.batch_size, verbose=0,
              validation_data=(x_val / 255.0, y_val), callbacks=[EpochTimer()])
    total = time.perf_counter() - started
    x_test = data.x_test[..., None] if augment else data.x_test
    predicted = model.predict(x_test / 255.0, verbose=0).argmax(axis=1)
    return {"total": total, "epochs": epoch_times, "accuracy": float(np.mean(predicted == data.y_test))}


def lab_engine(dataset: str, epochs: int, augment: bool, train_images: int | None) -> dict:
    """The engine through a warm worker (one earlier job of the same settings, so they are compiled)."""
    from mnistlib import models, training

    def request(epochs: int, seed: int):
        return training.TrainRequest(dataset, models.ModelSpec(seed=seed), epochs, subset="full",
                                     augment=augment, train_images=train_images)

    trainer = training.Trainer()
    try:
        trainer.submit(request(1, seed=1)).wait()
        return timed_job(trainer, request(epochs, seed=0))
    finally:
        trainer.shutdown()


def lab_main(arguments) -> None:
    """Print the lab setting's rows: seconds per epoch in model.fit and in the engine, and the ratio."""
    from mnistlib import datasets

    data = datasets.load(arguments.dataset, subset="full")
    ours = lab_engine(arguments.dataset, arguments.epochs, arguments.augment, arguments.train_images)
    theirs = lab_fit(data, arguments.epochs, arguments.augment, arguments.train_images)
    setting = "--augment" if arguments.augment else f"--train-images {arguments.train_images}"
    print(f"{arguments.dataset}, {setting}, {arguments.epochs} epochs, batch 32, the default model, validation on the "
          "same 6,000 held-out images after every epoch")
    for name, run in (("plain model.fit    ", theirs), ("mnistlib engine    ", ours)):
        print(f"{name}: {run['total'] / arguments.epochs:6.2f} s/epoch  (epochs: "
              f"{', '.join(f'{t:.2f}' for t in run['epochs'])})  test accuracy {run['accuracy']:.2%}")
    steady = statistics.mean(theirs["epochs"][1:] or theirs["epochs"]) / \
        statistics.mean(ours["epochs"][1:] or ours["epochs"])
    print(f"speed-up           : {theirs['total'] / ours['total']:6.2f}x over all epochs, {steady:.2f}x after the "
          f"first{'  (target ≥5x)' if arguments.augment else ''}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--augment", action="store_true", help="the lab's augmentation, against Keras's layers")
    parser.add_argument("--train-images", type=int, help="the lab's training subset of this many images")
    arguments = parser.parse_args()
    import tempfile

    from mnistlib import datasets

    # Benchmark models go to a throw-away store (workers inherit the environment): never the user's, where an
    # identical earlier training would be reused instead of trained again.
    os.environ["MNISTLIB_MODELS_DIR"] = tempfile.mkdtemp(prefix="mnistlib-bench-")
    if arguments.augment or arguments.train_images:
        lab_main(arguments)
        return

    data = datasets.load(arguments.dataset, subset="full")
    first = quick_start(arguments.dataset)
    ours = engine(arguments.dataset, arguments.epochs)
    theirs = tutorial(data, arguments.epochs)
    first_predict, best = predict_time(ours["model_id"], data)
    per_epoch_theirs = theirs["total"] / arguments.epochs
    per_epoch_ours = ours["total"] / arguments.epochs
    print(f"{arguments.dataset}, {arguments.epochs} epochs, batch 32, Flatten → Dense(128, relu) → Dense(10, softmax)")
    print(f"tutorial model.fit : {per_epoch_theirs:6.2f} s/epoch  (epochs: "
          f"{', '.join(f'{t:.2f}' for t in theirs['epochs'])})  test accuracy {theirs['accuracy']:.2%}")
    print(f"mnistlib engine    : {per_epoch_ours:6.2f} s/epoch  (epochs: "
          f"{', '.join(f'{t:.2f}' for t in ours['epochs'])})  test accuracy {ours['accuracy']:.2%}")
    print(f"speed-up           : {per_epoch_theirs / per_epoch_ours:6.2f}x  (target ≥7x)")
    print(f"accuracy difference: {100 * (ours['accuracy'] - theirs['accuracy']):+.2f} points (target within 0.3)")
    print(f"predict 10,000 test images (stored model, model.predict): first {first_predict:.3f} s, then {best:.3f} s "
          "(target ≤0.3 s)")
    later = statistics.mean(first["epochs"][1:])
    print(f"quick start job, a fresh worker's first (default model, validation split 0.1, {len(first['epochs'])} "
          f"epochs): epochs {', '.join(f'{t:.2f}' for t in first['epochs'])} s; first epoch {first['epochs'][0]:.2f} s "
          f"= {first['epochs'][0] / later:.2f}x a later one (target ≤1.3x); start → model stored {first['total']:.2f} s")


if __name__ == "__main__":
    main()
