"""Shared fixtures: a private model store for the test session, small trained models, seeded generators."""

import functools
import os
import tempfile

import numpy as np
import pytest
from streamlit.components.v2 import manifest_scanner

# No test may touch a real model store: the whole session (and the worker processes it spawns,
# which inherit the environment) writes to a temporary one unless a test sets its own.
os.environ["MNISTLIB_MODELS_DIR"] = tempfile.mkdtemp(prefix="mnistlib-test-models-")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Each new AppTest scans every installed package's metadata for Streamlit components: 0.35 s of a page test's
# 0.47 s, measured with cProfile. The installed packages do not change during a test session: scan once.
manifest_scanner.scan_component_manifests = functools.cache(manifest_scanner.scan_component_manifests)


@pytest.fixture(autouse=True)
def no_command_line_trainer_left():
    """A test that ran the command line in this process (cli.main) leaves the process's one Trainer without the web
    server's journal; the pages' next test would get it (get_trainer returns the existing one). Shut it down."""
    yield
    from mnistlib.training import trainer

    with trainer._trainer_lock:
        left = trainer._trainer
        if left is not None and not left._closed and not left._journal:
            trainer._trainer = None
        else:
            left = None
    if left is not None:
        left.shutdown()


@pytest.fixture
def models_dir(tmp_path, monkeypatch):
    """An empty model store for one test."""
    folder = tmp_path / "models"
    folder.mkdir()
    monkeypatch.setenv("MNISTLIB_MODELS_DIR", str(folder))
    return folder


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """An empty data folder for one test: the class's own datasets land in data_dir/custom."""
    monkeypatch.setenv("MNISTLIB_DATA_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture(scope="module")
def bare_main():
    """A bare __main__ while a module's Dask cluster runs: its nannies spawn worker processes (also to replace a
    killed one), and a spawned process re-imports __main__ — after an AppTest, that is the page script it ran."""
    import sys
    import types

    original = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    yield
    sys.modules["__main__"] = original


@pytest.fixture
def rng():
    """A seeded random generator."""
    return np.random.default_rng(0)


def train_and_store(dataset: str, epochs: int = 3, spec=None, name=None):
    """Train a model in this process on the small subset and store it with per-epoch test probabilities."""
    import keras

    from mnistlib import datasets, models, store

    spec = spec or models.ModelSpec(validation_split=0.1)
    data = datasets.load(dataset, subset="small")
    model = models.build(spec)
    x_train = data.x_train.astype("float32") / 255.0
    x_test = data.x_test.astype("float32") / 255.0
    per_epoch = []

    class TestProbabilities(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            per_epoch.append(self.model.predict(x_test, verbose=0).astype("float16"))

    fitted = model.fit(x_train, data.y_train, epochs=epochs, batch_size=spec.batch_size,
                       validation_split=spec.validation_split, verbose=0, callbacks=[TestProbabilities()])
    test_loss, test_accuracy = model.evaluate(x_test, data.y_test, verbose=0)
    history = [
        {"epoch": epoch + 1, **{key: float(values[epoch]) for key, values in fitted.history.items()}}
        for epoch in range(epochs)
    ]
    return store.save(model, {
        "name": name or f"{data.title} test model", "dataset": dataset, "subset": "small",
        "spec": spec.to_dict(), "epochs_run": epochs, "history": history, "test_loss": float(test_loss),
        "test_accuracy": float(test_accuracy), "training_seconds": 1.0, "test_size": len(data.y_test),
    }, np.stack(per_epoch))


@pytest.fixture(scope="session")
def stored_mnist_model():
    """A default model trained 3 epochs on MNIST's small subset, in the session's model store."""
    return train_and_store("mnist")


@pytest.fixture(scope="session")
def stored_fashion_model():
    """A default model trained 3 epochs on Fashion-MNIST's small subset, in the session's model store."""
    return train_and_store("fashion_mnist")
