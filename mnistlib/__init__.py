"""MNIST Lab's model library: data, models, training, store, evaluation and figures (no UI)."""

__version__ = "0.1.0"
