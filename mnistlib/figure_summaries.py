"""Figures in words, for a screen reader (and anyone): a sentence or two computed from the arrays a figure draws, and
the tables behind them. Every number in them is read off the data; the pages show them beside the figures.

    figure_summaries.saliency_summary(gradient_times_input, "7")   # the pixels for and against the answer
    figure_summaries.activation_summary(activations)               # which hidden units respond most
    figure_summaries.grad_cam_summary(cam, "7")                    # where Grad-CAM's heat lies
"""

import numpy as np

ROW_PARTS = ("top", "middle", "bottom")
COLUMN_PARTS = ("left", "centre", "right")


def _span(name: str, where) -> str:
    """ "row 7" or "rows 3–9" for the smallest and largest of where."""
    return f"{name} {where.min()}" if where.min() == where.max() else f"{name}s {where.min()}–{where.max()}"


def _listed(words) -> str:
    """ "a", "a and b", "a, b and c"."""
    words = list(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


## Pixels: gradient × input and Grad-CAM


def saliency_summary(gradient_times_input, class_name: str, strongest: int = 20) -> str:
    """The gradient × input map (28, 28) in one sentence: how many inked pixels count for and against the class, and
    the rows and columns (0 = top left) of the strongest ones for it."""
    values = np.asarray(gradient_times_input, dtype=np.float64)
    positive, negative = int((values > 0).sum()), int((values < 0).sum())
    if positive == 0:
        return f"In words: no inked pixel raises the probability of {class_name}; {negative} lower it."
    order = np.argsort(-values, axis=None, kind="stable")[: min(strongest, positive)]
    rows, columns = np.unravel_index(order, values.shape)
    return (f"In words: {positive} inked pixels raise the probability of {class_name} and {negative} lower it; the "
            f"{len(order)} that raise it most lie in {_span('row', rows)} and {_span('column', columns)} of the "
            f"{values.shape[0]}×{values.shape[1]} image (0 = top left).")


def _bands(size: int) -> list[np.ndarray]:
    """The pixel indices 0…size-1 cut into three bands as equal as can be (28: 0–9, 10–18, 19–27)."""
    return np.array_split(np.arange(size), 3)


def heat_parts(heat) -> np.ndarray:
    """The share of a map's total (height, width) ≥ 0 in each part of a 3×3 split (rows top to bottom, columns left
    to right, as _bands cuts them): (3, 3) float64 summing to 1, or all 0 when the map is 0 everywhere."""
    values = np.asarray(heat, dtype=np.float64)
    sums = np.array([[values[np.ix_(rows, columns)].sum() for columns in _bands(values.shape[1])]
                     for rows in _bands(values.shape[0])])
    total = sums.sum()
    return sums / total if total > 0 else np.zeros((3, 3))


def part_name(row: int, column: int) -> str:
    """The name of a part of the 3×3 split: "top left", "centre", "middle right", "bottom centre", …"""
    return "centre" if (row, column) == (1, 1) else f"{ROW_PARTS[row]} {COLUMN_PARTS[column]}"


def grad_cam_summary(heat, class_name: str) -> str:
    """The Grad-CAM map (28, 28) ≥ 0 in two sentences: its hottest pixel, and the part of a 3×3 split of the image
    holding the largest share of its heat, with the shares of its top, middle and bottom thirds."""
    values = np.asarray(heat, dtype=np.float64)
    if not (values > 0).any():
        return (f"In words: the Grad-CAM map for {class_name} is 0 everywhere: at no position do the last "
                "convolution's features, weighted by their average gradient, add up to a push toward it.")
    row, column = np.unravel_index(np.argmax(values), values.shape)
    parts = heat_parts(values)
    most = np.unravel_index(np.argmax(parts), parts.shape)
    thirds = parts.sum(axis=1)
    return (f"In words: the Grad-CAM heat for {class_name} is hottest at row {row}, column {column} (0 = top left). "
            f"Of the image cut into 3×3 parts, the {part_name(*most)} holds the largest share of the heat "
            f"({parts[most]:.0%}; no other part holds more); the top, middle and bottom thirds hold "
            f"{thirds[0]:.0%}, {thirds[1]:.0%} and {thirds[2]:.0%}.")


def heat_table(heat) -> dict[str, list]:
    """heat_parts as a table: one row per third from the top, one column per third from the left, each cell the
    share of the heat there (0–1), the rows and columns of pixels in the headers."""
    values = np.asarray(heat)
    parts = heat_parts(values)
    rows, columns = _bands(values.shape[0]), _bands(values.shape[1])
    table = {"part of the image": [f"{name} (rows {band[0]}–{band[-1]})" for name, band in zip(ROW_PARTS, rows,
                                                                                               strict=True)]}
    for index, (name, band) in enumerate(zip(COLUMN_PARTS, columns, strict=True)):
        table[f"{name} (columns {band[0]}–{band[-1]})"] = [float(share) for share in parts[:, index]]
    return table


## Hidden units and feature maps


def activation_summary(activations, strongest: int = 3) -> str:
    """The last hidden layer's activations (units,) in one sentence: how many units are above 0 and which ones are
    largest, with their values."""
    values = np.asarray(activations, dtype=np.float64)
    active = int((values > 0).sum())
    if active == 0:
        return f"In words: none of the {len(values)} units responds to this image (every one is 0 or below)."
    order = np.argsort(-values, kind="stable")[: min(strongest, active)]
    units = _listed(f"{int(unit)} ({values[unit]:.2f})" for unit in order)
    which = f"the strongest is unit {units}" if len(order) == 1 else f"the strongest are units {units}"
    return f"In words: {active} of the {len(values)} units respond to this image (above 0); {which}."


def activation_table(activations, pushes, class_name: str) -> dict[str, list]:
    """Every unit, largest activation first (ties by unit number): its activation and its push toward class_name
    (activation × its output weight; pushes (units,))."""
    values, pushes = np.asarray(activations, dtype=np.float64), np.asarray(pushes, dtype=np.float64)
    order = np.argsort(-values, kind="stable")
    return {"unit": [int(unit) for unit in order], "activation": [round(float(values[unit]), 4) for unit in order],
            f"push toward {class_name}": [round(float(pushes[unit]), 4) for unit in order]}


def feature_maps_summary(maps, strongest: int = 3) -> str:
    """One convolution's feature maps (height, width, filters) ≥ 0 in one sentence: how many filters respond
    anywhere in the image, and which respond most on average over it."""
    values = np.asarray(maps, dtype=np.float64)
    means = values.mean(axis=(0, 1))
    responding = int((values > 0).any(axis=(0, 1)).sum())
    if responding == 0:
        return f"In words: none of the {len(means)} filters responds anywhere in this image."
    order = np.argsort(-means, kind="stable")[: min(strongest, responding)]
    filters = _listed(str(int(index)) for index in order)
    which = f"filter {filters} responds" if len(order) == 1 else f"filters {filters} respond"
    return (f"In words: {responding} of the {len(means)} filters respond somewhere in this image; {which} most on "
            "average over it.")
