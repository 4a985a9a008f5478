"""The hidden-space map: a network's hidden activations projected to 2-D by PCA (numpy's SVD), on fixed axes.

Pure numpy (no TensorFlow), so the training loop can project the test set after each epoch. The activations
come from mnistlib.insight.hidden_activations: (N, units) float32, one row per image.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Projection:
    """A fitted PCA: mean (units,) and the two directions of largest variance, components (2, units)."""

    mean: np.ndarray
    components: np.ndarray
    explained: np.ndarray  # (2,) the fraction of the activations' variance along each direction

    def apply(self, activations) -> np.ndarray:
        """activations (N, units) -> (N, 2) float32 on these same axes (e.g. another epoch's activations)."""
        activations = np.asarray(activations, np.float64)
        if activations.ndim != 2 or activations.shape[1] != len(self.mean):
            raise ValueError(f"Expected activations of shape (N, {len(self.mean)}), got {activations.shape}.")
        return ((activations - self.mean) @ self.components.T).astype(np.float32)

    def __repr__(self):
        return f"Projection(units={len(self.mean)}, explained={np.round(self.explained, 3).tolist()})"


def fit_projection(activations) -> Projection:
    """PCA of activations (N, units) with numpy's SVD; each direction's sign fixed (largest loading positive)."""
    activations = np.asarray(activations, np.float64)
    if activations.ndim != 2 or len(activations) < 2 or activations.shape[1] < 1:
        raise ValueError("A 2-D map needs the activations of at least 2 images, shape (N, units).")
    mean = activations.mean(axis=0)
    _, singular, directions = np.linalg.svd(activations - mean, full_matrices=False)
    components = np.zeros((2, activations.shape[1]))
    kept = directions[:2]
    # SVD's signs are arbitrary: fix them so the same activations always give the same picture.
    signs = np.sign(kept[np.arange(len(kept)), np.abs(kept).argmax(axis=1)])
    components[: len(kept)] = kept * np.where(signs == 0, 1.0, signs)[:, None]
    variance = singular**2
    explained = np.zeros(2)
    explained[: len(kept)] = variance[:2] / variance.sum() if variance.sum() > 0 else 0.0
    return Projection(mean, components, explained)


def project_2d(activations) -> np.ndarray:
    """The activations (N, units) on their two principal directions (PCA): (N, 2) float32."""
    return fit_projection(activations).apply(activations)


def hidden_space(activations_per_epoch) -> tuple[np.ndarray, Projection]:
    """Every epoch's activations (epochs, N, units) on the final epoch's principal axes: (epochs, N, 2) float32.

    Fitting once on the last epoch keeps the axes the same, so an epoch slider shows clusters forming
    rather than axes turning.
    """
    projection = fit_projection(activations_per_epoch[-1])
    return np.stack([projection.apply(activations) for activations in activations_per_epoch]), projection
