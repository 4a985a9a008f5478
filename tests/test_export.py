"""Exporting a model: the .keras file, a plain-Keras train.py that repeats its accuracy, and clear errors."""

import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from mnistlib import cli, config, datasets, export, store

PYTHON = sys.executable
EXPORTED = {"model.keras", "train.py", "data.npz", "README.md"}


def run_train_script(folder, *arguments) -> subprocess.CompletedProcess:
    """Run an exported train.py from another working directory, as a student would after unzipping."""
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([PYTHON, str(folder / "train.py"), *arguments], cwd=folder.parent, env=environment,
                          capture_output=True, text=True, timeout=600)


def printed_accuracy(result: subprocess.CompletedProcess) -> float:
    """The test accuracy (in %) that train.py printed."""
    assert result.returncode == 0, result.stderr[-2000:]
    found = re.findall(r"^test accuracy (\d+\.\d+)%", result.stdout, flags=re.MULTILINE)
    assert len(found) == 1, result.stdout[-2000:]
    return float(found[0])


def test_cli_export_writes_the_model_and_a_train_py_that_repeats_its_accuracy(stored_mnist_model, tmp_path):
    card, folder = stored_mnist_model, tmp_path / "home" / "my-model"
    result = subprocess.run([PYTHON, "-m", "mnistlib", "export", card.id, str(folder)], capture_output=True,
                            text=True, cwd=config.REPO_ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert {path.name for path in folder.iterdir()} == EXPORTED
    assert (folder / "model.keras").read_bytes() == store.model_bytes(card.id)
    import keras  # the README's promise: load_model reads it, and it takes (N, 28, 28) images divided by 255

    loaded = keras.saving.load_model(folder / "model.keras")
    assert loaded.predict(np.zeros((2, 28, 28), np.float32), verbose=0).shape == (2, 10)

    data = datasets.load("mnist", subset="small")
    with np.load(folder / "data.npz", allow_pickle=False) as arrays:
        for part in ("x_train", "y_train", "x_test", "y_test"):
            assert arrays[part].dtype == np.uint8
            np.testing.assert_array_equal(arrays[part], getattr(data, part))
        assert tuple(arrays["class_names"]) == data.class_names

    script = (folder / "train.py").read_text()
    for call in ("keras.Sequential(", "model.compile(", "model.fit(", "model.evaluate("):
        assert call in script
    assert "mnistlib" not in script and "epochs=3," in script and "validation_split=0.1," in script
    assert len((folder / "README.md").read_text().splitlines()) == 3

    # The card's model was trained with model.fit on the same 900 images (100 held back for validation).
    assert abs(printed_accuracy(run_train_script(folder)) - 100 * card.test_accuracy) <= 1.0


@pytest.mark.skipif(not datasets.is_fetched("mnist"), reason="needs the full MNIST: python -m mnistlib fetch")
def test_train_py_repeats_a_model_the_app_trained_on_full_mnist(tmp_path):
    """The app's own training loop and train.py's model.fit land within 1 point on MNIST's 10,000 test images.

    They take the images in different orders; on the small subset's 200 test images (one image is 0.5 points)
    the order alone moves the accuracy by more than a point, so a model the app trained is compared here.
    """
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    trained = subprocess.run([PYTHON, "-m", "mnistlib", "train", "--dataset", "mnist", "--subset", "full",
                              "--epochs", "2", "--name", "export test"], capture_output=True, text=True,
                             cwd=config.REPO_ROOT, env=environment, timeout=300)
    assert trained.returncode == 0, trained.stderr[-2000:]
    model_id = re.search(r"model id (\S+)", trained.stdout).group(1)
    card = store.load_card(model_id)
    assert card.subset == "full" and card.test_size == 10_000

    folder = tmp_path / "export"
    export.export(model_id, folder)
    assert "epochs=2," in (folder / "train.py").read_text()
    assert abs(printed_accuracy(run_train_script(folder)) - 100 * card.test_accuracy) <= 1.0


def test_project_zip_holds_the_same_files_as_the_folder(stored_fashion_model, tmp_path):
    card = stored_fashion_model
    written = export.export(card.id, tmp_path / "out")
    with zipfile.ZipFile(io.BytesIO(export.project_zip(card.id))) as archive:
        assert archive.testzip() is None
        contents = {name.split("/", 1)[1]: archive.read(name) for name in archive.namelist()}
        assert {name.split("/", 1)[0] for name in archive.namelist()} == {f"mnist-lab-{card.id}"}
    assert contents == {path.name: path.read_bytes() for path in written}
    assert export.model_bytes(card.id) == contents["model.keras"]
    script = contents["train.py"].decode()
    assert "keras.datasets.fashion_mnist.load_data()" in script
    compile(script, "train.py", "exec")


def test_train_py_explains_its_switch_and_keras_has_the_loader(stored_fashion_model, tmp_path):
    import keras

    assert callable(keras.datasets.fashion_mnist.load_data)
    export.export(stored_fashion_model.id, tmp_path / "out")
    result = run_train_script(tmp_path / "out", "--help")  # argparse answers before any training
    assert result.returncode == 0 and "--keras-datasets" in result.stdout


## Bad input: one line on stderr, exit status 1, nothing written


def export_error(capsys, model_id, folder) -> str:
    """Run `export MODEL_ID FOLDER` through the CLI; the single error line it printed."""
    assert cli.main(["export", model_id, str(folder)]) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: ") and error.count("\n") == 1, error
    return error


@pytest.fixture
def private_copy(stored_mnist_model, tmp_path, monkeypatch):
    """A copy of the stored MNIST model in a store of its own, free to damage; yields (id, its folder)."""
    session_folder = config.models_dir() / stored_mnist_model.id
    store_folder = tmp_path / "models"
    shutil.copytree(session_folder, store_folder / stored_mnist_model.id)
    monkeypatch.setenv("MNISTLIB_MODELS_DIR", str(store_folder))
    return stored_mnist_model.id, store_folder / stored_mnist_model.id


@pytest.mark.parametrize("model_id, message", [
    ("../etc", "is not a model id"),
    ("20200101-000000-abcdef", "No stored model has the id"),
])
def test_unknown_or_malformed_model_id(capsys, tmp_path, model_id, message):
    assert message in export_error(capsys, model_id, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("damage, message", [
    (lambda folder: (folder / "card.json").write_text("{not json"), "card.json is damaged"),
    (lambda folder: (folder / "model.keras").unlink(), "model.keras is missing"),
    (lambda folder: (folder / "model.keras").write_bytes((folder / "model.keras").read_bytes()[:5000]),
     "model.keras is damaged"),
    (lambda folder: _edit_card(folder, spec={"architecture": "transformer"}), "settings are damaged"),
    (lambda folder: _edit_card(folder, test_size=999), "has changed since"),
])
def test_damaged_model_folder(capsys, tmp_path, private_copy, damage, message):
    model_id, folder = private_copy
    damage(folder)
    assert message in export_error(capsys, model_id, tmp_path / "out")
    with pytest.raises((RuntimeError, ValueError), match=message):
        export.check(model_id)  # what the Predict page asks before offering the downloads
    assert not (tmp_path / "out").exists()


def _edit_card(folder, **changes):
    card = json.loads((folder / "card.json").read_text())
    (folder / "card.json").write_text(json.dumps({**card, **changes}))


def test_dataset_not_fetched(capsys, tmp_path, private_copy, monkeypatch):
    model_id, folder = private_copy
    _edit_card(folder, subset="full")
    monkeypatch.setenv("MNISTLIB_DATA_DIR", str(tmp_path / "no-data"))
    error = export_error(capsys, model_id, tmp_path / "out")
    assert "has not been fetched yet" in error and "python -m mnistlib fetch --dataset mnist" in error
    assert not (tmp_path / "out").exists()


def test_non_empty_file_or_unwritable_folder(capsys, tmp_path, stored_mnist_model):
    full = tmp_path / "full"
    full.mkdir()
    (full / "notes.txt").write_text("keep me")
    assert "is not empty" in export_error(capsys, stored_mnist_model.id, full)
    assert [path.name for path in full.iterdir()] == ["notes.txt"] and (full / "notes.txt").read_text() == "keep me"

    (tmp_path / "a-file").write_text("")
    assert "is a file" in export_error(capsys, stored_mnist_model.id, tmp_path / "a-file")
    # /proc takes no new folders, not even from root.
    assert "Cannot write" in export_error(capsys, stored_mnist_model.id, "/proc/mnist-lab-export")


def test_an_empty_existing_folder_is_fine(tmp_path, stored_mnist_model):
    export.check(stored_mnist_model.id)
    (tmp_path / "empty").mkdir()
    written = export.export(stored_mnist_model.id, tmp_path / "empty")
    assert {path.name for path in written} == EXPORTED
    assert not list((tmp_path / "empty").glob(".*"))  # no partial files left


def test_a_dataset_keras_does_not_have_trains_from_data_npz_only(tmp_path, rng):
    """A user's 3-class dataset: a 3-unit output, no --keras-datasets switch, and train.py runs."""
    from mnistlib.models import ModelSpec

    data = datasets.Dataset("my_digits", "My digits", ("zero", "one", "two"), "full",
                            rng.integers(0, 256, (60, 28, 28), dtype=np.uint8), np.arange(60, dtype=np.uint8) % 3,
                            rng.integers(0, 256, (15, 28, 28), dtype=np.uint8), np.arange(15, dtype=np.uint8) % 3)
    spec = ModelSpec(hidden_units=16, batch_size=8, validation_split=0.2)
    card = store.ModelCard(id="20261124-201500-3fa9c2", name="mine", dataset="my_digits", subset="full",
                           spec=spec.to_dict(), epochs_run=2, history=[], test_loss=1.0, test_accuracy=0.4,
                           training_seconds=1.0, created="2026-11-24T20:15:00+00:00", test_size=15)
    script = export.train_script(card, spec, data)
    assert "keras-datasets" not in script and "keras.datasets" not in script
    assert 'layers.Dense(3, activation="softmax")' in script
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "train.py").write_text(script)
    (tmp_path / "out" / "data.npz").write_bytes(export.data_npz(data))
    assert 0 <= printed_accuracy(run_train_script(tmp_path / "out")) <= 100
