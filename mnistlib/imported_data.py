"""What an import read from a file, before it is stored: the arrays, and a report for the student (classes,
counts, the ink detected, skipped files, an example of each class before and after its preparation)."""

from dataclasses import dataclass, field

import numpy as np


class DatasetFileError(ValueError):
    """A file that cannot become a dataset, with one sentence saying why and what to do."""


@dataclass(frozen=True, repr=False)
class Example:
    """A class's first image as uploaded (before: grey (H, W) uint8, shrunk to importing.EXAMPLE_SIDE pixels at most)
    and as prepared (after: (28, 28) uint8 white on black); inverted: its dark ink on light was inverted."""

    class_name: str
    path: str
    before: np.ndarray
    after: np.ndarray
    inverted: bool

    def __repr__(self):
        return f"Example({self.class_name!r}, {self.path!r}, inverted={self.inverted})"


@dataclass(frozen=True, repr=False)
class ImportedData:
    """A dataset read from a file, not yet stored: arrays (x (N, 28, 28) uint8 0–255, y (N,) uint8) and a report."""

    class_names: tuple[str, ...]
    arrays: dict  # x_train, y_train, x_test, y_test
    source: str  # the file's name
    split: str  # "folders": the zip's train/ and test/; "stratified": split here; "file": the .npz's own
    dark_on_light: int = 0  # images whose light background was inverted to MNIST's white on black
    light_on_dark: int = 0  # images already light ink on a dark background
    skipped: tuple[str, ...] = field(default=())  # members that are not images, left out
    examples: tuple[Example, ...] = field(default=())  # a zip: the first image of each class, before and after

    def __repr__(self):
        return (f"ImportedData({self.source!r}, classes={len(self.class_names)}, "
                f"train={len(self.arrays['y_train'])}, test={len(self.arrays['y_test'])}, split={self.split!r})")

    def notes(self) -> list[str]:
        """What the import did, as sentences for a student."""
        train, test = len(self.arrays["y_train"]), len(self.arrays["y_test"])
        how = {"folders": "as the zip's train/ and test/ folders say", "file": "as the .npz file says",
               "stratified": "split here, the same fraction from every class"}[self.split]
        notes = [f"{len(self.class_names)} classes, {train:,} training and {test:,} test images ({how})."]
        if self.dark_on_light:
            notes.append(f"Dark ink on a light background detected in {_count(self.dark_on_light, 'image')}: "
                         "inverted to white on black, like MNIST.")
        if self.light_on_dark:
            notes.append(f"Light ink on a dark background detected in {_count(self.light_on_dark, 'image')}: "
                         "kept as it is, like MNIST.")
        if self.skipped:
            shown = ", ".join(self.skipped[:5]) + (", …" if len(self.skipped) > 5 else "")
            what = "is not an image" if len(self.skipped) == 1 else "are not images"
            notes.append(f"Skipped {_count(len(self.skipped), 'file')} that {what}: {shown}.")
        return notes

    def class_counts(self) -> dict:
        """Images per class: {"train": (classes,) int64, "test": (classes,) int64}."""
        return {part: np.bincount(self.arrays[f"y_{part}"], minlength=len(self.class_names))
                for part in ("train", "test")}

    def samples(self, per_class: int = 5) -> tuple[np.ndarray, np.ndarray]:
        """The first per_class training images of every class, class by class: images (K, 28, 28) uint8, labels (K,)."""
        labels = self.arrays["y_train"]
        chosen = np.concatenate([np.flatnonzero(labels == label)[:per_class] for label in range(len(self.class_names))])
        return self.arrays["x_train"][chosen], labels[chosen]


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"
