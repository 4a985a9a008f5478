"""The registry's second source: the class's own datasets register here (user_datasets.py does, as soon as mnistlib
is imported), so that datasets.py lists and loads them without importing user_datasets.py back."""

from pathlib import Path
from typing import Protocol


class OwnDatasets(Protocol):
    """What datasets.py asks about every name that is not built in (user_datasets.py implements it)."""

    def readable_names(self) -> list[str]: ...

    def custom_names(self) -> list[str]: ...

    def entry(self, name: str): ...

    def custom_dir(self) -> Path: ...

    def sent(self, name: str, subset: str): ...

    def check_new_name(self, name) -> str: ...

    def add(self, name: str, arrays: dict, class_names, title=None, source="", notes=(), added_by=None): ...

    def remove(self, name: str) -> None: ...

    def to_arrays(self, name: str, subset: str | None = None) -> dict: ...

    def from_arrays(self, name: str, subset: str, arrays: dict): ...


_own: OwnDatasets | None = None


def register(source: OwnDatasets) -> None:
    """Make source the class's own datasets (called once, by user_datasets.py on import)."""
    global _own
    _own = source


def own() -> OwnDatasets:
    """The registered source of the class's own datasets."""
    if _own is None:  # only when mnistlib/__init__.py was bypassed
        raise RuntimeError("The class's own datasets are not registered: import mnistlib (it registers them).")
    return _own
