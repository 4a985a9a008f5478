"""The dataset registry: shapes, checksums, known facts, errors and the fallback path."""

import shutil

import numpy as np
import pytest

from mnistlib import config, datasets, sources

needs_full_data = pytest.mark.skipif(
    not all(datasets.is_fetched(name) for name in datasets.available()),
    reason="full datasets not fetched (make test fetches them)",
)


def test_registry():
    assert datasets.available() == ["mnist", "fashion_mnist"]
    assert datasets.info("mnist").class_names == tuple("0123456789")
    assert datasets.info("fashion_mnist").class_names == (
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    )


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="mnist, fashion_mnist"):
        datasets.load("cifar10")


@needs_full_data
@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
def test_full_shapes_dtypes_and_checksums(name):
    data = datasets.load(name, subset="full")
    for part, shape in datasets.FULL_SHAPES.items():
        array = getattr(data, part)
        assert array.shape == shape and array.dtype == np.uint8
        assert datasets.checksum(array) == datasets.info(name).sha256[part]
        assert not array.flags.writeable
    assert data.y_train.max() == 9 and data.x_train.max() == 255


@needs_full_data
def test_known_mnist_facts():
    data = datasets.load("mnist", subset="full")
    assert data.y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert data.y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert data.x_train.mean() == pytest.approx(33.318, abs=1e-3)
    assert data.x_train.std() == pytest.approx(78.567, abs=1e-3)


@needs_full_data
def test_small_subset_is_stratified_and_drawn_from_full_data():
    full = datasets.load("fashion_mnist", subset="full")
    small = datasets.load("fashion_mnist", subset="small")
    assert small.x_train.shape == (1000, 28, 28) and small.x_test.shape == (200, 28, 28)
    assert np.bincount(small.y_train).tolist() == [100] * 10
    assert np.bincount(small.y_test).tolist() == [20] * 10
    train_rows = {image.tobytes() for image in full.x_train}
    assert all(image.tobytes() in train_rows for image in small.x_train[:50])


def test_small_subset_loads_without_fetching(tmp_path, monkeypatch):
    monkeypatch.setenv("MNISTLIB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MNISTLIB_SUBSET", "small")
    data = datasets.load("mnist")
    assert data.subset == "small" and data.y_train.shape == (1000,)


def test_missing_data_says_how_to_fetch(tmp_path, monkeypatch):
    monkeypatch.setenv("MNISTLIB_DATA_DIR", str(tmp_path))
    with pytest.raises(datasets.DataMissingError, match="python -m mnistlib fetch --dataset mnist"):
        datasets.load("mnist", subset="full")


@pytest.fixture
def copied_small_as_full(tmp_path, monkeypatch):
    """A data folder holding MNIST's small subset as if it were the full data (wrong checksums)."""
    monkeypatch.setenv("MNISTLIB_DATA_DIR", str(tmp_path))
    small = datasets.load("mnist", subset="small")
    folder = datasets.dataset_dir("mnist")
    folder.mkdir(parents=True)
    for part in datasets.PARTS:
        np.save(folder / f"{part}.npy", getattr(small, part))
    return folder


def test_wrong_data_is_refused_naming_the_file(copied_small_as_full):
    with pytest.raises(datasets.DataCorruptError, match=r"x_train\.npy.*fetch --dataset mnist"):
        datasets.load("mnist", subset="full")


def test_truncated_file_is_refused_naming_the_file(copied_small_as_full):
    path = copied_small_as_full / "x_train.npy"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(datasets.DataCorruptError, match=r"x_train\.npy is damaged"):
        datasets.load("mnist", subset="full")


def fake_source(arrays):
    return lambda name, progress=None: arrays


def unreachable(name, progress=None):
    raise sources.SourceUnavailable("official hosts unreachable (simulated)")


def test_fetch_falls_back_when_the_official_hosts_fail(tmp_path, monkeypatch):
    """With the official hosts down, the next source's data is verified and stored."""
    small = datasets.load("mnist", subset="small")
    arrays = {part: getattr(small, part) for part in datasets.PARTS}
    small_as_registry = dict(datasets.REGISTRY["mnist"].small_sha256)
    monkeypatch.setitem(
        datasets.REGISTRY, "mnist", datasets.REGISTRY["mnist"].__class__(
            **{**datasets.REGISTRY["mnist"].__dict__, "sha256": small_as_registry}
        ),
    )
    monkeypatch.setenv("MNISTLIB_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(sources, "SOURCES", (("official download", unreachable), ("fallback", fake_source(arrays))))
    messages = []
    folder = datasets.fetch("mnist", progress=lambda done, total, message: messages.append(message))
    assert folder == tmp_path / "mnist"
    assert any("official" in message for message in messages) and "verified from the fallback" in messages[-1]
    np.testing.assert_array_equal(datasets.load("mnist", subset="full").y_test, small.y_test)


def test_fetch_refuses_a_source_with_wrong_data(tmp_path, monkeypatch):
    small = datasets.load("mnist", subset="small")
    arrays = {part: getattr(small, part) for part in datasets.PARTS}
    monkeypatch.setenv("MNISTLIB_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(sources, "SOURCES", (("official download", unreachable), ("bad mirror", fake_source(arrays))))
    with pytest.raises(datasets.DataMissingError, match="bad mirror: x_train, y_train, x_test, y_test failed"):
        datasets.fetch("mnist")
    assert not (tmp_path / "mnist").exists()


def test_official_download_fails_fast_and_cleanly(monkeypatch):
    monkeypatch.setattr(sources, "KERAS_BASE", "http://127.0.0.1:9/")  # the discard port: refused at once
    with pytest.raises(sources.SourceUnavailable, match="not reachable"):
        sources.from_official("fashion_mnist")


def test_mnist_pickle_must_match_its_pin():
    with pytest.raises(sources.SourceUnavailable, match="SHA-256"):
        sources._mnist_from_hub_pickle(b"not the pinned pickle")


@pytest.mark.skipif(not shutil.which("dpkg-deb"), reason="needs Debian tools")
def test_debian_source_refuses_mnist():
    with pytest.raises(sources.SourceUnavailable):
        sources.from_debian("mnist")


def test_config_rejects_an_unknown_subset(monkeypatch):
    monkeypatch.setenv("MNISTLIB_SUBSET", "tiny")
    with pytest.raises(ValueError, match="MNISTLIB_SUBSET"):
        config.subset()
