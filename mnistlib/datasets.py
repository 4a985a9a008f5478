"""The dataset registry: MNIST and Fashion-MNIST, fetched from the first source that works, verified, loaded fast;
and datasets of the user's own images (stored and verified the same way by user_datasets.py)."""

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnistlib import atomic_file, config, dataset_registry, sources
from mnistlib.dataset_checks import PARTS

FULL_SHAPES = {"x_train": (60000, 28, 28), "y_train": (60000,), "x_test": (10000, 28, 28), "y_test": (10000,)}
SMALL_DIR = Path(__file__).parent / "small"


@dataclass(frozen=True)
class DatasetInfo:
    """What we know about a dataset before loading it: names, classes and checksums."""

    name: str
    title: str
    subject: str
    class_names: tuple[str, ...]
    sha256: dict  # part -> SHA-256 of the decoded uint8 array's bytes (full data)
    small_sha256: dict  # the same for the committed small subset (a user dataset: the dataset itself)
    custom: bool = False  # True for a dataset of the user's own images
    source: str = ""  # a user dataset: the file it was made from
    created: str = ""  # a user dataset: when it was added (ISO 8601, UTC)
    notes: tuple[str, ...] = ()  # a user dataset: what the import did (skipped files, inverted images, split)
    added_by: str = ""  # a user dataset: the display name of who added it ("" for the command line)
    added_by_key: str = ""  # and their key (store.Actor.key), who may remove it


REGISTRY = {
    "mnist": DatasetInfo(
        name="mnist",
        title="MNIST digits",
        subject="handwritten digits",
        class_names=tuple(str(digit) for digit in range(10)),
        sha256={
            "x_train": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
            "y_train": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
            "x_test": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
            "y_test": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
        },
        small_sha256={
            "x_train": "02966109521c8e39ca8526525f9c7622fee74e411b3fbfdf07b67a5c341d73f6",
            "y_train": "0274f0e7f9f5ee7be2dd504570444976fa6e27d35e3046897d64d49532ed0a4d",
            "x_test": "6f5a33aae7be2fabf0dbb84ad560996c4cd5b337e86d9f930f30e8ebb4d78c78",
            "y_test": "de4185a16fa37d4f32a98aefe06c7305127d47e863d309a42a0361c48796b456",
        },
    ),
    "fashion_mnist": DatasetInfo(
        name="fashion_mnist",
        title="Fashion-MNIST",
        subject="clothes, shoes and bags",
        class_names=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                     "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
        sha256={
            "x_train": "2e487a6c89124f78f2d7521542223cafe96f7123c3ca13d447772ac6ecbb3012",
            "y_train": "657fbd221bfc9f4198cc14b5619cc33ec57c58dd0e47af4d99d6650759e869a7",
            "x_test": "c867c93ff95360594e8ec3287995350b824dd110b11595c0e13d5423f621867a",
            "y_test": "3d0e6c6ea990b53b6f8f500a41cac93881d981b315f84578b7d915342ade01e9",
        },
        small_sha256={
            "x_train": "a36fb9b3162be7b5c97c7116a56dcf5bb60d49638d5b9a55e0bd9fc42ff6e270",
            "y_train": "bc1446b697b77c2c4f41b8630f17d7a9313d9ce5daf22253f895156c091389ee",
            "x_test": "bd717e348f61637449a527deed3d31d7c25693628801d071a875fdcac2abd785",
            "y_test": "946b7680535a2e8aba23bb57eb3c7bcee1ef47ba08d7ac283613e0ea3850efdd",
        },
    ),
}


class DataMissingError(RuntimeError):
    """The dataset has not been fetched yet."""


class DataCorruptError(RuntimeError):
    """A stored file does not hold the verified data."""


@dataclass(frozen=True, repr=False)
class Dataset:
    """One dataset in memory: images (N, 28, 28) uint8 0–255 and labels (N,) uint8 0..classes-1, read-only."""

    name: str
    title: str
    class_names: tuple[str, ...]
    subset: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    def __repr__(self):
        return (f"Dataset({self.name!r}, subset={self.subset!r}, x_train={self.x_train.shape}, "
                f"x_test={self.x_test.shape})")


def available() -> list[str]:
    """Names of the known datasets: MNIST, Fashion-MNIST, then the user's own (readable ones, sorted)."""
    return list(REGISTRY) + dataset_registry.own().readable_names()


def info(name: str) -> DatasetInfo:
    """The registry entry for name; ValueError listing the known names otherwise (DataCorruptError: unreadable)."""
    if name in REGISTRY:
        return REGISTRY[name]
    entry = dataset_registry.own().entry(name)
    if entry is not None:
        return entry
    raise ValueError(f"Unknown dataset {name!r}: choose one of {', '.join(available())}.")


def fetch_command(name: str) -> str:
    """The command that (re-)fetches a dataset, for error messages."""
    return f"python -m mnistlib fetch --dataset {name}"


def repair_hint(name: str) -> str:
    """What to do about a damaged dataset: re-fetch a built-in one, remove and re-add a user's own."""
    if name in REGISTRY:
        return f"Re-fetch it with: {fetch_command(name)}"
    return f"Remove it with: python -m mnistlib dataset remove {name}, then add it again."


def checksum(array: np.ndarray) -> str:
    """SHA-256 of an array's bytes in C order."""
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def dataset_dir(name: str) -> Path:
    """Folder of one dataset's verified .npy files."""
    if name in REGISTRY:
        return config.data_dir() / name
    return dataset_registry.own().custom_dir() / info(name).name


def _verify(name: str, part: str, array: np.ndarray, expected: dict, where: str) -> np.ndarray:
    """array if its dtype and checksum match; DataCorruptError naming where it came from otherwise."""
    if array.dtype != np.uint8 or checksum(array) != expected[part]:
        raise DataCorruptError(
            f"{where} does not hold the verified {info(name).title} {part} "
            f"(checksum mismatch). {repair_hint(name)}"
        )
    array.flags.writeable = False
    return array


def _load_full(name: str) -> dict:
    entry, folder = info(name), dataset_dir(name)
    arrays = {}
    for part in PARTS:
        path = folder / f"{part}.npy"
        if not path.is_file():
            if entry.custom:
                raise DataCorruptError(f"{path} is missing. {repair_hint(name)}")
            raise DataMissingError(
                f"{entry.title} has not been fetched yet ({path} is missing). Run: {fetch_command(name)}"
            )
        try:
            array = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError) as error:
            raise DataCorruptError(
                f"{path} is damaged ({error}). {repair_hint(name)}"
            ) from error
        arrays[part] = _verify(name, part, array, entry.sha256, str(path))
    return arrays


def _load_small(name: str) -> dict:
    path = SMALL_DIR / f"{name}.npz"
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {part: npz[part] for part in PARTS}
    except (OSError, ValueError, KeyError, EOFError) as error:
        raise DataCorruptError(f"The committed subset {path} is missing or damaged ({error}).") from error
    return {part: _verify(name, part, arrays[part], info(name).small_sha256, str(path)) for part in PARTS}


def load(name: str, subset: str | None = None) -> Dataset:
    """The verified dataset: subset "full" (60000/10000), "small" (1000/200) or None for config.subset().

    A user dataset is small already: both subsets are the whole of it.
    """
    entry = info(name)
    subset = subset or config.subset()
    if subset not in config.SUBSETS:
        raise ValueError(f"Unknown subset {subset!r}: choose one of {', '.join(config.SUBSETS)}.")
    sent = dataset_registry.own().sent(name, subset)
    if sent is not None:  # sent with a task to this process (a Dask worker): not on its disk
        return sent
    arrays = _load_full(name) if subset == "full" or entry.custom else _load_small(name)
    if max(int(arrays["y_train"].max()), int(arrays["y_test"].max())) >= len(entry.class_names):
        raise DataCorruptError(f"{entry.title} has labels beyond its {len(entry.class_names)} class names. "
                               f"{repair_hint(name)}")
    return Dataset(name=entry.name, title=entry.title, class_names=entry.class_names, subset=subset, **arrays)


def is_fetched(name: str) -> bool:
    """True when the dataset's four files are present (load() still verifies them)."""
    return all((dataset_dir(name) / f"{part}.npy").is_file() for part in PARTS)


def save_array(path: Path, array: np.ndarray) -> None:
    """Write one .npy so that readers never see half a file."""
    with atomic_file.replacing(path) as file:
        np.save(file, array, allow_pickle=False)


def fetch(name: str, progress=None) -> Path:
    """Put verified data in the data folder, from the first source that works; returns the folder.

    progress(done, total, message) is called as sources are tried and bytes arrive (total 0 = unknown).
    """
    entry = info(name)
    if entry.custom:  # nothing to download: verify what is stored
        _load_full(name)
        return dataset_dir(name)
    try:
        _load_full(name)
        return dataset_dir(name)
    except (DataMissingError, DataCorruptError):
        pass
    failures = []
    for label, source in sources.SOURCES:
        if progress:
            progress(0, 0, f"trying the {label}")
        try:
            arrays = source(name, progress)
        except (sources.SourceUnavailable, ValueError) as error:
            failures.append(f"{label}: {error}")
            continue
        mismatched = [part for part in PARTS if checksum(arrays[part]) != entry.sha256[part]]
        if mismatched:
            failures.append(f"{label}: {', '.join(mismatched)} failed verification")
            continue
        for part in PARTS:
            save_array(dataset_dir(name) / f"{part}.npy", arrays[part])
        if progress:
            progress(1, 1, f"{entry.title} verified from the {label}")
        return dataset_dir(name)
    raise DataMissingError(f"Could not fetch {entry.title} from any source: " + "; ".join(failures))


## The user's own datasets (user_datasets.py, found through dataset_registry.py), part of the registry's API


def custom_names() -> list[str]:
    """Names of the stored user datasets, sorted, readable or not (a damaged one can still be removed)."""
    return dataset_registry.own().custom_names()


def check_new_name(name) -> str:
    """name if a new user dataset may take it; ValueError with one sentence saying why not otherwise."""
    return dataset_registry.own().check_new_name(name)


def add(name: str, arrays: dict, class_names, title: str | None = None, source: str = "", notes=(),
        added_by=None) -> DatasetInfo:
    """Store a user dataset and return its entry (see user_datasets.add); ValueError for bad input."""
    return dataset_registry.own().add(name, arrays, class_names, title=title, source=source, notes=notes, added_by=added_by)


def remove(name: str) -> None:
    """Delete a user dataset (its models stay in the store); ValueError for a built-in or unknown name."""
    dataset_registry.own().remove(name)


def to_arrays(name: str, subset: str | None = None) -> dict:
    """A dataset as plain values to send with a task: x_train, y_train, x_test, y_test, class_names, title, checksum."""
    return dataset_registry.own().to_arrays(name, subset)


def from_arrays(name: str, subset: str, arrays: dict) -> Dataset:
    """The Dataset to_arrays sent (checksum verified), known to info() and load() in this process from now on."""
    return dataset_registry.own().from_arrays(name, subset, arrays)
