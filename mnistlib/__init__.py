"""MNIST Lab's model library: data, models, training, store, evaluation and figures (no UI)."""

__version__ = "0.1.0"

# The class's own datasets register with the dataset registry (datasets.py never imports them back).
from mnistlib import user_datasets  # noqa: E402, F401
