"""Checks on a new dataset before it is stored: its name, class names, arrays and class sizes (numpy only)."""

import re

import numpy as np

from mnistlib import names

NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")  # a name is also a folder name and a CLI argument
CLASS_RANGE = (2, 20)  # classes a dataset may have
MIN_PER_CLASS = 5  # images of each class, training and test together
MAX_IMAGES = 200_000
PARTS = ("x_train", "y_train", "x_test", "y_test")


def name_key(name: str) -> str:
    """Names a person could mistake for one another share a key: MNIST, mnist; fashion-mnist, fashion_mnist."""
    return name.casefold().replace("-", "_")


def check_new_name(name, builtin=(), existing=()) -> str:
    """name if a new dataset may take it (not like a built-in or existing name); ValueError saying why not."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError("Give the dataset a name, e.g. my_digits.")
    if any(ord(character) < 32 or 127 <= ord(character) < 160 for character in name):
        raise ValueError(f"The name {name!r} holds a control character; use letters, digits, - and _ only.")
    if "/" in name or "\\" in name or ".." in name:
        raise ValueError(f"The name {name!r} holds “/”, “\\” or “..”, but a name becomes a folder name: use "
                         "letters, digits, - and _ only.")
    for taken in builtin:
        if name_key(name) == name_key(taken):
            raise ValueError(f"The name {name!r} is taken by the built-in dataset {taken}; choose another name.")
    for taken in existing:
        if name_key(name) == name_key(taken):
            raise ValueError(f"A dataset named {taken!r} already exists; choose another name or remove it first "
                             f"with: python -m mnistlib dataset remove {taken}")
    if not NAME_PATTERN.fullmatch(name):
        raise ValueError(f"The name {name!r} cannot be used: a name is 1 to 40 lower-case letters, digits, - and _, "
                         "starting with a letter or digit (e.g. my_digits).")
    return name


def check_class_names(class_names) -> tuple[str, ...]:
    """2 to 20 distinct class names as plain text (40 characters at most); ValueError otherwise."""
    if isinstance(class_names, str) or not hasattr(class_names, "__len__"):
        raise ValueError("The class names must be a list of texts, one per class.")
    low, high = CLASS_RANGE
    if len(class_names) < low:
        raise ValueError(f"A dataset needs at least {low} classes to tell apart; this one has {len(class_names)}.")
    if len(class_names) > high:
        raise ValueError(f"A dataset can have at most {high} classes; this one has {len(class_names)}.")
    cleaned = tuple(names.clean(str(name), 40, "A class name") for name in class_names)
    keys = [names.key(name) for name in cleaned]
    for index, key in enumerate(keys):
        if key in keys[:index]:
            raise ValueError(f"Two classes are both named {cleaned[index]!r}; give every class its own name.")
    return cleaned


def check_arrays(arrays: dict, num_classes: int) -> dict:
    """The four parts as uint8 arrays (images (N, 28, 28) 0–255, labels (N,) 0..num_classes-1); ValueError otherwise."""
    missing = [part for part in PARTS if part not in arrays]
    if missing:
        raise ValueError(f"The dataset lacks {', '.join(missing)}; it needs x_train, y_train, x_test and y_test.")
    checked = {}
    for images, labels in (("x_train", "y_train"), ("x_test", "y_test")):
        x, y = np.asarray(arrays[images]), np.asarray(arrays[labels])
        if x.dtype != np.uint8 or x.ndim != 3 or x.shape[1:] != (28, 28) or len(x) == 0:
            raise ValueError(f"{images} must hold uint8 images of shape (N, 28, 28) with N ≥ 1; it is {x.dtype} "
                             f"{x.shape}.")
        if y.dtype == np.bool_ or not np.issubdtype(y.dtype, np.integer) or y.ndim != 1:
            raise ValueError(f"{labels} must be whole-number labels of shape (N,), one per image; it is {y.dtype} "
                             f"{y.shape}.")
        if len(y) != len(x):
            raise ValueError(f"{labels} has {len(y)} labels for the {len(x)} images in {images}.")
        if y.min() < 0 or y.max() >= num_classes:
            wrong = y.min() if y.min() < 0 else y.max()
            raise ValueError(f"{labels} holds the label {wrong}, but with {num_classes} classes the labels are 0 to "
                             f"{num_classes - 1}.")
        checked[images], checked[labels] = np.ascontiguousarray(x), y.astype(np.uint8)
    if len(checked["x_train"]) + len(checked["x_test"]) > MAX_IMAGES:
        raise ValueError(f"A dataset can hold at most {MAX_IMAGES:,} images.")
    return {part: checked[part] for part in PARTS}


def check_class_sizes(class_names, y_train: np.ndarray, y_test: np.ndarray | None = None) -> None:
    """ValueError unless every class has MIN_PER_CLASS images in all, and (given y_test) training and test images."""
    train = np.bincount(np.asarray(y_train, np.int64), minlength=len(class_names))
    test = np.bincount(np.asarray(y_test if y_test is not None else [], np.int64), minlength=len(class_names))
    for label, name in enumerate(class_names):
        total = int(train[label] + test[label])
        if total == 0:
            raise ValueError(f"Class {name!r} has no images; each class needs at least {MIN_PER_CLASS}.")
        if total < MIN_PER_CLASS:
            raise ValueError(f"Class {name!r} has only {total} images; each class needs at least {MIN_PER_CLASS}.")
        if y_test is not None and (train[label] == 0 or test[label] == 0):
            missing = "training" if train[label] == 0 else "test"
            raise ValueError(f"Class {name!r} has no {missing} images; each class needs both.")
