"""Where mnistlib keeps its data and models, read from environment variables."""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SUBSETS = ("full", "small")


def data_dir() -> Path:
    """Folder of verified datasets: $MNISTLIB_DATA_DIR, else <repo>/data."""
    return Path(os.environ.get("MNISTLIB_DATA_DIR") or REPO_ROOT / "data")


def models_dir() -> Path:
    """Folder of the model store: $MNISTLIB_MODELS_DIR, else <repo>/models."""
    return Path(os.environ.get("MNISTLIB_MODELS_DIR") or REPO_ROOT / "models")


def subset() -> str:
    """Which data every part uses: "full", or "small" (the committed subset) via $MNISTLIB_SUBSET."""
    value = (os.environ.get("MNISTLIB_SUBSET") or "full").strip().lower()
    if value not in SUBSETS:
        raise ValueError(f"MNISTLIB_SUBSET must be one of {', '.join(SUBSETS)}, not {value!r}.")
    return value


def max_trainings() -> int:
    """Trainings run at once on this machine: $MNISTLIB_MAX_TRAININGS, else half the cores (at least 1)."""
    value = os.environ.get("MNISTLIB_MAX_TRAININGS")
    if value:
        if not value.isdigit() or int(value) < 1:
            raise ValueError(f"MNISTLIB_MAX_TRAININGS must be a whole number of at least 1, not {value!r}.")
        return int(value)
    return max(1, (os.cpu_count() or 2) // 2)
