"""Reading the user's own images: zips of class folders and .npz files become datasets; bad files are refused."""

import io
import struct
import zipfile
import zlib
from functools import cache
from pathlib import PurePosixPath

import numpy as np
import pytest
from PIL import Image

from mnistlib import datasets, images, importing, training_order

CLASSES = ("zero", "one", "two")
FORMATS = (("PNG", ".png"), ("JPEG", ".jpg"), ("WEBP", ".webp"), ("GIF", ".gif"), ("BMP", ".bmp"))


pytestmark = pytest.mark.usefixtures("data_dir")  # an empty data folder (conftest.py)


def encoded(image: Image.Image, format: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format)
    return buffer.getvalue()


def photographed(digit: np.ndarray, generator, size: int, dark_ink: bool = True) -> Image.Image:
    """An MNIST digit (28, 28) uint8 as a coloured photo of size×size: blue ink on noisy light paper (or chalk)."""
    ink = np.asarray(Image.fromarray(digit).resize((size, size), Image.BILINEAR), np.float64)[..., None] / 255
    paper = (np.array([235.0, 228, 210]) if dark_ink else np.array([30.0, 45, 35])) + generator.normal(0, 6, (size, size, 3))
    colour = np.array([30.0, 40, 120]) if dark_ink else np.array([240.0, 240, 230])
    return Image.fromarray(np.clip(paper * (1 - ink) + colour * ink, 0, 255).astype(np.uint8))


def make_zip(entries: dict, compression=zipfile.ZIP_DEFLATED) -> bytes:
    """A zip in memory from {path: bytes}; a path ending in "/" is a folder entry."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for path, content in entries.items():
            archive.writestr(path, content)
    return buffer.getvalue()


def digit_zip(per_class: int = 20, top: str = "digits/", dark_ink: bool = True, extra=None) -> dict:
    """{path: bytes} of MNIST digits photographed at random sizes in every format, one folder per class."""
    return {**photographed_digits(per_class, top, dark_ink), **(extra or {})}


@cache
def photographed_digits(per_class: int, top: str, dark_ink: bool) -> dict:
    """The photographs of digit_zip, made once per set of arguments (do not change the dict returned)."""
    data = datasets.load("mnist", subset="small")
    generator = np.random.default_rng(0)
    entries = {}
    for label, name in enumerate(CLASSES):
        for number, index in enumerate(np.flatnonzero(data.y_train == label)[:per_class]):
            format, suffix = FORMATS[number % len(FORMATS)]
            picture = photographed(data.x_train[index], generator, int(generator.integers(40, 700)), dark_ink)
            entries[f"{top}{name}/{number:03d}{suffix}"] = encoded(picture, format)
    return entries


@pytest.fixture(scope="module")
def photo_entries():
    return digit_zip(extra={"digits/README.txt": b"three digits", "__MACOSX/digits/._x.png": b"\x00\x05",
                            "digits/zero/.DS_Store": b"\x00"})


def stored_nothing(data_dir) -> bool:
    """True when no dataset (and no half-written folder) is in the data folder."""
    folder = data_dir / "custom"
    return not folder.exists() or not any(folder.iterdir())


## Zips that work


def test_photographed_digits_become_a_verified_dataset(photo_entries, data_dir):
    entry = importing.import_file(make_zip(photo_entries), "photo_digits", filename="digits.zip", title="Photos")
    assert entry.custom and entry.title == "Photos" and entry.source == "digits.zip"
    assert entry.class_names == ("one", "two", "zero")  # folders in order (alphabetical: not all are numbers)
    assert "photo_digits" in datasets.available()
    data = datasets.load("photo_digits")
    assert data.x_train.shape == (48, 28, 28) and data.x_test.shape == (12, 28, 28)
    assert data.x_train.dtype == np.uint8 and data.y_train.dtype == np.uint8
    assert np.bincount(data.y_test).tolist() == [4, 4, 4] and np.bincount(data.y_train).tolist() == [16, 16, 16]
    for part in datasets.PARTS:
        assert datasets.checksum(getattr(data, part)) == entry.sha256[part]
    # Dark ink on light paper was detected and inverted: white ink on black, like MNIST.
    assert "Dark ink on a light background detected in 60 images" in " ".join(entry.notes)
    assert "Skipped 1 file that is not an image: README.txt" in " ".join(entry.notes)
    assert np.median(data.x_train[:, 0, :]) == 0 and data.x_train.max(axis=(1, 2)).min() == 255


def test_each_image_is_prepared_as_the_draw_page_prepares_it(photo_entries):
    data = datasets.load("mnist", subset="small")
    for path in ("digits/zero/000.png", "digits/one/002.webp", "digits/two/001.jpg"):
        content = photo_entries[path]
        prepared, inverted = importing._prepare(content, path)
        gray = images.decode_upload(content, max_bytes=importing.MAX_IMAGE_BYTES)
        if max(gray.shape) <= importing.WORKING_SIDE:
            np.testing.assert_array_equal(prepared, images.model_input(gray)[0])
        assert inverted
    # The photographed digit comes back close to the MNIST digit it was made from.
    original = data.x_train[np.flatnonzero(data.y_train == 0)[0]].astype(float)
    prepared = importing._prepare(photo_entries["digits/zero/000.png"], "")[0].astype(float)
    assert np.corrcoef(original.ravel(), prepared.ravel())[0, 1] > 0.8


def test_light_ink_on_dark_is_kept_and_reported():
    imported = importing.read_file(make_zip(digit_zip(per_class=5, top="", dark_ink=False)), "chalk.zip")
    assert imported.light_on_dark == 15 and imported.dark_on_light == 0
    assert "Light ink on a dark background detected in 15 images" in " ".join(imported.notes())


def test_train_and_test_folders_are_honoured():
    entries = digit_zip(per_class=10, top="")
    split = {(f"train/{path}" if int(PurePosixPath(path).stem) < 7 else f"test/{path}"): content
             for path, content in entries.items()}
    imported = importing.read_file(make_zip(split), "split.zip")
    assert imported.split == "folders"
    assert np.bincount(imported.arrays["y_train"]).tolist() == [7, 7, 7]
    assert np.bincount(imported.arrays["y_test"]).tolist() == [3, 3, 3]


def test_the_test_fraction_is_adjustable_and_stratified():
    content = make_zip(digit_zip(per_class=10, top=""))
    imported = importing.read_file(content, "digits.zip", test_fraction=0.4)
    assert imported.split == "stratified" and np.bincount(imported.arrays["y_test"]).tolist() == [4, 4, 4]
    # Shuffled, so that Keras's validation split (the training set's last part) holds every class.
    assert len(set(imported.arrays["y_train"][-5:].tolist())) > 1
    with pytest.raises(ValueError, match="test fraction must be from 0.05 to 0.5"):
        importing.read_file(content, "digits.zip", test_fraction=0.9)


def test_number_folders_are_in_number_order():
    blob = encoded(Image.fromarray(np.pad(np.full((10, 4), 255, np.uint8), 9)))
    entries = {f"{folder}/{number}.png": blob for folder in ("10", "2", "1") for number in range(5)}
    assert importing.read_file(make_zip(entries), "numbers.zip").class_names == ("1", "2", "10")


## Zips that are refused: a clear sentence, nothing stored


def png_header(width: int, height: int) -> bytes:
    """A PNG file declaring width×height pixels (its pixel data is never read)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


@pytest.mark.parametrize("content, message", [
    (png_header(50_000, 50_000), "far too large"),
    (png_header(0, 0), "not an image that can be read"),
    (b"\xff\xd8\xff\xe0" + bytes(40), "damaged or cut short|not an image"),
    (encoded(Image.new("L", (60, 60), 200)), "is blank"),
])
def test_an_unusable_image_is_refused_naming_it(content, message, data_dir):
    entries = {**digit_zip(per_class=5, top=""), "two/bad.png": content}
    with pytest.raises(ValueError, match=f"two/bad.png .*({message})"):
        importing.import_file(make_zip(entries), "bad", filename="bad.zip")
    assert stored_nothing(data_dir)


@pytest.mark.parametrize("folders, message", [
    (1, r"classes.zip has 1 class folder \(class0\); a dataset needs 2 to 20 classes, one folder of images per"),
    (21, r"classes.zip has 21 class folders \(class0, class1, class2, …\); a dataset needs 2 to 20 classes"),
])
def test_class_counts_outside_2_to_20_are_refused(folders, message, data_dir):
    blob = encoded(Image.fromarray(np.pad(np.full((10, 4), 255, np.uint8), 9)))
    entries = {f"class{folder}/{number}.png": blob for folder in range(folders) for number in range(5)}
    with pytest.raises(ValueError, match=message):
        importing.import_file(make_zip(entries), "classes", filename="classes.zip")
    assert stored_nothing(data_dir)


@pytest.mark.parametrize("extra, message", [
    ({"empty/": b""}, "Class 'empty' has no images; each class needs at least 5"),
    ({"notes/readme.txt": b"hello"}, "Class 'notes' has no images"),
    ({"few/1.png": None, "few/2.png": None, "few/3.png": None}, "Class 'few' has only 3 images"),
    ({"loose.png": None}, "loose.png is not inside a class folder"),
])
def test_empty_small_and_missing_class_folders_are_refused(extra, message, data_dir):
    blob = encoded(Image.fromarray(np.pad(np.full((10, 4), 255, np.uint8), 9)))
    entries = {**digit_zip(per_class=5, top=""), **{path: blob if content is None else content
                                                     for path, content in extra.items()}}
    with pytest.raises(ValueError, match=message):
        importing.import_file(make_zip(entries), "classes", filename="classes.zip")
    assert stored_nothing(data_dir)


def test_files_that_are_not_zips_or_npz_are_refused():
    with pytest.raises(ValueError, match="not a zip file that can be read"):
        importing.read_file(b"just some text", "fake.zip")
    with pytest.raises(ValueError, match="neither a .zip of class folders nor an .npz"):
        importing.read_file(b"\x1f\x8b", "images.tar.gz")


## .npz files


def npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def three_classes():
    """Arrays of a valid 3-class dataset taken from MNIST's small subset (labels 0, 1, 2)."""
    data = datasets.load("mnist", subset="small")
    train, test = np.flatnonzero(data.y_train < 3)[:60], np.flatnonzero(data.y_test < 3)[:15]
    return {"x_train": data.x_train[train], "y_train": data.y_train[train].astype(np.int64),
            "x_test": data.x_test[test], "y_test": data.y_test[test].astype(np.int64)}


def test_an_npz_becomes_a_dataset_with_its_class_names(three_classes):
    entry = importing.import_file(npz_bytes(**three_classes, class_names=np.array(["nought", "one", "two"])),
                                  "npz_digits", filename="digits.npz")
    data = datasets.load("npz_digits")
    assert entry.class_names == ("nought", "one", "two")
    np.testing.assert_array_equal(data.x_test, three_classes["x_test"])
    order = training_order.stratified_order(three_classes["y_train"])  # stored shuffled, stratified
    np.testing.assert_array_equal(data.y_train, three_classes["y_train"][order])
    np.testing.assert_array_equal(data.x_train, three_classes["x_train"][order])
    assert data.y_train.dtype == np.uint8
    without_names = importing.read_file(npz_bytes(**three_classes), "plain.npz")
    assert without_names.class_names == ("0", "1", "2") and without_names.split == "file"


def test_object_arrays_in_an_npz_are_refused(three_classes, data_dir):
    for key, value in (("y_test", three_classes["y_test"].astype(object)),
                       ("class_names", np.array(["a", "b", "c"], dtype=object))):
        with pytest.raises(ValueError, match="holds Python objects .*not loaded for safety"):
            importing.import_file(npz_bytes(**{**three_classes, key: value}), "objects", filename="objects.npz")
    assert stored_nothing(data_dir)


@pytest.mark.parametrize("change, message", [
    ({"y_test": "float"}, r"y_test must be whole-number labels of shape \(N,\); it is float64"),
    ({"y_train": "strings"}, r"y_train must be whole-number labels of shape \(N,\); it is <U"),
    ({"y_train": "column"}, r"y_train must be whole-number labels of shape \(N,\); it is int64 \(60, 1\)"),
    ({"x_test": "flat"}, r"x_test must hold uint8 images of shape \(N, 28, 28\).*\(15, 784\)"),
    ({"x_train": "float"}, r"x_train must hold uint8 images .*float32"),
    ({"y_test": "short"}, "y_test has 14 labels for the 15 images in x_test"),
    ({"y_test": "beyond"}, "y_test holds the label 7, but with 3 classes the labels are 0 to 2"),
    ({"y_train": "one class"}, "at least 2 classes to tell apart; this one has 1"),
    ({"x_test": "missing"}, "lacks x_test"),
])
def test_mixed_or_malformed_npz_arrays_are_refused(three_classes, change, message, data_dir):
    arrays = dict(three_classes)
    (key, how), = change.items()
    value = arrays[key]
    if how == "missing":
        del arrays[key]
    elif how == "one class":
        arrays = {**arrays, "y_train": np.zeros(60, np.int64), "y_test": np.zeros(15, np.int64)}
    else:
        arrays[key] = {"float": lambda: value.astype(np.float64 if key.startswith("y") else np.float32),
                       "strings": lambda: value.astype(str), "column": lambda: value[:, None],
                       "flat": lambda: value.reshape(len(value), -1), "short": lambda: value[:-1],
                       "beyond": lambda: np.where(np.arange(len(value)) == 0, 7, value)}[how]()
    names = {"class_names": np.array(["a", "b", "c"])} if how == "beyond" else {}
    with pytest.raises(ValueError, match=message):
        importing.import_file(npz_bytes(**arrays, **names), "malformed", filename="bad.npz")
    assert stored_nothing(data_dir)


def test_an_npz_declaring_more_than_it_holds_is_refused():
    header = {"descr": "|u1", "fortran_order": False, "shape": (10**12, 28, 28)}
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    arrays = npz_bytes(x_train=np.zeros((5, 28, 28), np.uint8))
    content = io.BytesIO()
    with zipfile.ZipFile(content, "w") as archive, zipfile.ZipFile(io.BytesIO(arrays)) as source:
        archive.writestr("x_train.npy", source.read("x_train.npy"))
        archive.writestr("x_test.npy", buffer.getvalue() + bytes(100))
    with pytest.raises(ValueError, match="x_test.npy in huge.npz declares more data than it holds"):
        importing.read_file(content.getvalue(), "huge.npz")
