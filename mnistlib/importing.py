"""The user's own images as a dataset: a .zip of class folders or an .npz, read safely and prepared like MNIST.

A zip holds one folder per class (optionally inside train/ and test/); every image is decoded and prepared
the way the Draw page prepares an upload (images.decode_upload, then images.model_input). Zips are read with
safe_zip: sizes checked before and while unpacking, nothing written to disk.
"""

import io
import math
import re
import zipfile
import zlib
from pathlib import Path, PurePosixPath

import numpy as np
from numpy.lib import format as npy_format
from PIL import Image

from mnistlib import dataset_checks, datasets, images
from mnistlib.imported_data import DatasetFileError, Example, ImportedData
from mnistlib.safe_zip import SafeZip

MAX_IMAGE_BYTES = 20_000_000  # one image file
MAX_IMAGE_PIXELS = 16_000_000  # a 12-megapixel phone photo fits
WORKING_SIDE = 560  # larger images are first shrunk to this longer side; the digit ends up 20 px anyway
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp"}
ARCHIVE_SUFFIXES = {".zip", ".npz", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar"}
SYSTEM_FILES = {"__macosx", "thumbs.db", "desktop.ini"}  # added by zip tools; ignored like hidden files
TEST_FRACTION_RANGE = (0.05, 0.5)
EXAMPLE_SIDE = 160  # the "before" picture of each class's example is shrunk to this longer side
__all__ = ["DatasetFileError", "Example", "ImportedData", "add_imported", "import_file", "read_file", "read_npz",
           "read_zip", "stratified_split"]


def import_file(source, name: str, filename: str | None = None, title: str | None = None,
                test_fraction: float = 0.2, progress=None, added_by=None) -> datasets.DatasetInfo:
    """Read a .zip or .npz (a path, or bytes with their filename) and store it as dataset name; returns its entry.

    ValueError (DatasetFileError for the file itself) with one sentence when anything is wrong; nothing is stored then.
    added_by: the store.Actor adding it (None: the command line).
    """
    datasets.check_new_name(name)  # before decoding thousands of images
    return add_imported(name, read_file(source, filename, test_fraction, progress), title, added_by)


def add_imported(name: str, imported: ImportedData, title: str | None = None, added_by=None) -> datasets.DatasetInfo:
    """Store what read_file read as dataset name (with its notes); ValueError when the name is taken or bad."""
    return datasets.add(name, imported.arrays, imported.class_names, title=title, source=imported.source,
                        notes=imported.notes(), added_by=added_by)


def read_file(source, filename: str | None = None, test_fraction: float = 0.2, progress=None) -> ImportedData:
    """A .zip or .npz as an ImportedData; ValueError (one sentence) for anything unusable."""
    if isinstance(source, bytes | bytearray):
        if not filename:
            raise ValueError("Give the file's name with its content, so that .zip and .npz can be told apart.")
        content = io.BytesIO(source)
    else:
        if not Path(source).is_file():
            raise DatasetFileError(f"There is no file {str(source)!r}.")
        filename, content = filename or Path(source).name, source
    if filename.lower().endswith(".npz"):
        return read_npz(content, filename)
    if filename.lower().endswith(".zip"):
        return read_zip(content, filename, test_fraction, progress)
    raise DatasetFileError(f"{filename} is neither a .zip of class folders nor an .npz file.")


## Reading a zip of class folders


def _is_image(parts) -> bool:
    return PurePosixPath(parts[-1]).suffix.lower() in IMAGE_SUFFIXES


def _is_system_file(path: str) -> bool:
    return any(part.startswith(".") or part.casefold() in SYSTEM_FILES for part in path.split("/"))


def _class_key(name: str) -> list:
    """Class folders in natural order: "2" before "10", "class2" before "class10", otherwise alphabetical."""
    # re.split with a group alternates text and digits, so the same positions always hold the same type.
    return [int(part) if part.isdigit() else part.casefold() for part in re.split(r"(\d+)", name)]


def _layout(members: list[zipfile.ZipInfo], filename: str):
    """(groups, skipped): groups maps "train"/"test"/"all" to {class folder: [image members]}."""
    files = [(member, PurePosixPath(member.filename.replace("\\", "/")).parts) for member in members
             if not member.is_dir() and not _is_system_file(member.filename)]
    folders = [PurePosixPath(member.filename.replace("\\", "/")).parts for member in members
               if member.is_dir() and not _is_system_file(member.filename)]
    for _, parts in files:
        if PurePosixPath(parts[-1]).suffix.lower() in ARCHIVE_SUFFIXES:
            raise DatasetFileError(f"{filename} holds another archive ({'/'.join(parts)}); put the class folders "
                                   "in one zip, not a zip inside the zip.")
    # A zip made from a folder has that folder on top: strip it while every file is below it (images two
    # folders deeper, the class folder and the image itself).
    depth = 0
    while (len({parts[depth] for _, parts in files}) == 1 and all(len(parts) > depth + 1 for _, parts in files)
           and all(len(parts) >= depth + 3 for _, parts in files if _is_image(parts))):
        depth += 1
    files = [(member, parts[depth:]) for member, parts in files]
    folders = [parts[depth:] for parts in folders if len(parts) > depth]
    tops = {parts[0].casefold() for _, parts in files if len(parts) > 1} | {parts[0].casefold() for parts in folders}
    split = tops == {"train", "test"}
    groups = {"train": {}, "test": {}} if split else {"all": {}}
    for parts in folders:  # empty class folders count too, so that they can be reported
        if len(parts) > (1 if split else 0):
            group = parts[0].casefold() if split else "all"
            groups[group].setdefault(parts[1] if split else parts[0], [])
    skipped = []
    for member, parts in files:
        is_image = _is_image(parts)
        if len(parts) < (3 if split else 2):
            if is_image:
                raise DatasetFileError(f"{'/'.join(parts)} is not inside a class folder: put each image in a folder "
                                       "named after its class (e.g. cat/photo1.jpg).")
            skipped.append("/".join(parts))
            continue
        group, folder = (parts[0].casefold(), parts[1]) if split else ("all", parts[0])
        images_of_class = groups[group].setdefault(folder, [])
        if is_image:
            images_of_class.append(member)
        else:
            skipped.append("/".join(parts))
    return groups, sorted(skipped)


def _prepare(data: bytes, where: str) -> tuple[np.ndarray, bool]:
    """(image (28, 28) uint8 white on black, inverted) for one image file, as the Draw page prepares it."""
    if data[:4] == b"PK\x03\x04":
        raise DatasetFileError(f"{where} is a zip file, not an image; put the images themselves in the zip.")
    try:
        gray = images.decode_upload(data, max_bytes=MAX_IMAGE_BYTES, max_pixels=MAX_IMAGE_PIXELS)
    except images.ImageError as error:
        raise DatasetFileError(f"{where} cannot be used: {error}") from error
    if max(gray.shape) > WORKING_SIDE:
        factor = -(-max(gray.shape) // WORKING_SIDE)
        gray = np.asarray(Image.fromarray(gray).reduce(factor))
    if images.looks_like_mnist(gray):
        return gray.astype(np.uint8), False
    steps = images.preprocess_steps(gray)
    if not steps:
        raise DatasetFileError(f"{where} is blank: nothing in it stands out from its background.")
    return steps[-1][1], any(title.startswith("inverted") for title, _ in steps)


def read_zip(content, filename: str = "images.zip", test_fraction: float = 0.2, progress=None) -> ImportedData:
    """A zip of class folders (or train/ and test/ of class folders) as an ImportedData; ValueError if not."""
    low, high = TEST_FRACTION_RANGE
    if not isinstance(test_fraction, int | float) or not low <= test_fraction <= high:
        raise DatasetFileError(f"The test fraction must be from {low} to {high} (0.2 keeps 20% of each class "
                               "for testing).")
    with SafeZip(content, filename) as archive:
        groups, skipped = _layout(archive.members(), filename)
        folders = sorted({folder for classes in groups.values() for folder in classes}, key=_class_key)
        low, high = dataset_checks.CLASS_RANGE
        if not low <= len(folders) <= high:
            shown = ", ".join(folders[:3]) + (", …" if len(folders) > 3 else "")
            raise DatasetFileError(f"{filename} has {len(folders)} class folder{'' if len(folders) == 1 else 's'}"
                                   f"{f' ({shown})' if folders else ''}; a dataset needs {low} to {high} classes, "
                                   "one folder of images per class.")
        class_names = dataset_checks.check_class_names(folders)
        counts, examples = {"inverted": 0, "kept": 0}, {}
        total = sum(len(members) for classes in groups.values() for members in classes.values())
        prepared = {}
        for group, classes in groups.items():
            pictures, labels = [], []
            for label, folder in enumerate(folders):
                for member in sorted(classes.get(folder, []), key=lambda member: member.filename):
                    content = archive.read(member, MAX_IMAGE_BYTES)
                    image, inverted = _prepare(content, member.filename)
                    if label not in examples:
                        examples[label] = Example(class_names[label], member.filename, _preview(content), image,
                                                  inverted)
                    pictures.append(image)
                    labels.append(label)
                    counts["inverted" if inverted else "kept"] += 1
                    done = counts["inverted"] + counts["kept"]
                    if progress and (done % 25 == 0 or done == total):
                        progress(done, total, f"prepared {done:,} of {total:,} images")
            prepared[group] = (np.array(pictures, np.uint8).reshape(-1, 28, 28), np.array(labels, np.uint8))
    if "all" in prepared:
        x, y = prepared["all"]
        dataset_checks.check_class_sizes(class_names, y)  # enough images in every class to split
        arrays, split = stratified_split(x, y, test_fraction), "stratified"
    else:
        arrays = {"x_train": prepared["train"][0], "y_train": prepared["train"][1],
                  "x_test": prepared["test"][0], "y_test": prepared["test"][1]}
        split = "folders"
    dataset_checks.check_class_sizes(class_names, arrays["y_train"], arrays["y_test"])
    arrays = dataset_checks.check_arrays(arrays, len(class_names))
    return ImportedData(class_names, arrays, filename, split, counts["inverted"], counts["kept"], tuple(skipped),
                        tuple(examples[label] for label in sorted(examples)))


def _preview(content: bytes) -> np.ndarray:
    """An image file (already checked by _prepare) in grey, shrunk to at most EXAMPLE_SIDE pixels on its longer side."""
    picture = Image.fromarray(images.decode_upload(content, max_bytes=MAX_IMAGE_BYTES, max_pixels=MAX_IMAGE_PIXELS))
    picture.thumbnail((EXAMPLE_SIDE, EXAMPLE_SIDE))
    return np.asarray(picture)


def stratified_split(pictures: np.ndarray, labels: np.ndarray, test_fraction: float, seed: int = 0) -> dict:
    """x_train, y_train, x_test, y_test with test_fraction of every class (at least 1, never all) held out for
    testing; both parts shuffled (seeded), since Keras's validation split takes the training set's last part."""
    generator = np.random.default_rng(seed)
    test = []
    for label in np.unique(labels):
        members = generator.permutation(np.flatnonzero(labels == label))
        test.extend(members[: min(max(1, round(len(members) * test_fraction)), len(members) - 1)])
    is_test = np.zeros(len(labels), bool)
    is_test[test] = True
    train_order = generator.permutation(np.flatnonzero(~is_test))
    test_order = generator.permutation(np.flatnonzero(is_test))
    return {"x_train": pictures[train_order], "y_train": labels[train_order],
            "x_test": pictures[test_order], "y_test": labels[test_order]}


## Reading an .npz


def read_npz(content, filename: str = "data.npz") -> ImportedData:
    """An .npz of x_train, y_train, x_test, y_test (uint8 (N, 28, 28), integer labels) and optional class_names."""
    with SafeZip(content, filename) as archive:
        for member in archive.members():  # read each header before numpy allocates what it declares
            _check_npy_header(archive, member, filename)
    if hasattr(content, "seek"):
        content.seek(0)
    try:
        with np.load(content, allow_pickle=False) as npz:
            missing = [part for part in datasets.PARTS if part not in npz.files]
            if missing:
                raise DatasetFileError(f"{filename} lacks {', '.join(missing)}; an .npz needs x_train, y_train, "
                                       "x_test and y_test (and may have class_names).")
            arrays = {part: npz[part] for part in datasets.PARTS}
            names = npz["class_names"] if "class_names" in npz.files else None
    except DatasetFileError:
        raise
    except ValueError as error:
        if "allow_pickle" in str(error) or "Object arrays" in str(error):
            raise DatasetFileError(f"{filename} holds Python objects (an object array), which are not loaded for "
                                   "safety; save plain numeric arrays and strings.") from error
        raise DatasetFileError(f"{filename} cannot be read as an .npz file ({error}).") from error
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        raise DatasetFileError(f"{filename} cannot be read as an .npz file ({error}).") from error
    for part in ("y_train", "y_test"):
        label = arrays[part]
        if label.dtype == np.bool_ or not np.issubdtype(label.dtype, np.integer) or label.ndim != 1:
            raise DatasetFileError(f"{part} must be whole-number labels of shape (N,); it is {label.dtype} "
                                   f"{label.shape}.")
    if names is None:
        largest = max((int(arrays[part].max()) for part in ("y_train", "y_test") if arrays[part].size), default=0)
        names = np.array([str(label) for label in range(largest + 1)])
    elif names.ndim != 1 or names.dtype.kind not in "US":
        raise DatasetFileError(f"class_names must be a list of texts, one per class; it is {names.dtype} "
                               f"{names.shape}.")
    class_names = dataset_checks.check_class_names(names.astype(str).tolist())
    arrays = dataset_checks.check_arrays(arrays, len(class_names))
    dataset_checks.check_class_sizes(class_names, arrays["y_train"], arrays["y_test"])
    return ImportedData(class_names, arrays, filename, "file")


def _check_npy_header(archive: SafeZip, member: zipfile.ZipInfo, filename: str) -> None:
    """DatasetFileError when a member of an .npz is not an .npy or declares more numbers than it holds.

    Object arrays are left to np.load(allow_pickle=False), which refuses them.
    """
    try:
        with archive.open(member) as file:
            version = npy_format.read_magic(file)
            reader = npy_format.read_array_header_1_0 if version == (1, 0) else npy_format.read_array_header_2_0
            shape, _, dtype = reader(file)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        raise DatasetFileError(f"{member.filename} in {filename} is not a numpy array file ({error}).") from error
    if not dtype.hasobject and math.prod(shape) * dtype.itemsize > member.file_size:
        raise DatasetFileError(f"{member.filename} in {filename} declares more data than it holds; it is damaged.")
