"""Figures build and carry the right data."""

import numpy as np

from mnistlib import plots

NAMES = [str(digit) for digit in range(10)]


def probabilities_with(top: int) -> np.ndarray:
    row = np.full(10, 0.02)
    row[top] = 0.82
    return row


def test_probability_bar_heights_and_colours():
    figure = plots.probability_bar(probabilities_with(7), NAMES, true_label=2)
    bar = figure.data[0]
    np.testing.assert_allclose(bar.y, probabilities_with(7))
    assert bar.marker.color[7] == plots.WRONG and bar.marker.color[2] == plots.RIGHT
    assert bar.marker.color[0] == plots.OTHER and list(bar.x) == NAMES
    assert figure.layout.yaxis.range == (0, 1.12)
    # Right and wrong said in words under the bars, not by colour alone.
    assert figure.layout.xaxis.ticktext[7] == f"{NAMES[7]}<br>predicted ✗" and figure.layout.xaxis.ticktext[2] == (
        f"{NAMES[2]}<br>true")
    right = plots.probability_bar(probabilities_with(7), NAMES, true_label=7).layout.xaxis.ticktext
    assert right[7] == f"{NAMES[7]}<br>predicted ✓" and right[2] == NAMES[2]
    assert plots.probability_bar(probabilities_with(7), NAMES).layout.xaxis.ticktext[7] == f"{NAMES[7]}<br>predicted"


def test_prediction_figure_label_and_colour():
    image = np.zeros((28, 28), np.uint8)
    right = plots.prediction_figure(image, probabilities_with(3), 3, NAMES)
    wrong = plots.prediction_figure(image, probabilities_with(3), 5, NAMES)
    assert right.axes[0].get_xlabel() == "3 82% (3) ✓" and wrong.axes[0].get_xlabel() == "3 82% (5) ✗"
    assert right.axes[0].xaxis.label.get_color() == plots.RIGHT
    assert wrong.axes[0].xaxis.label.get_color() == plots.WRONG
    heights = [patch.get_height() for patch in right.axes[1].patches]
    np.testing.assert_allclose(heights, probabilities_with(3))
    assert right.axes[1].get_ylim() == (0, 1)
    assert plots.figure_png(right).startswith(b"\x89PNG\r\n\x1a\n")


def test_confusion_heatmap_carries_counts_and_names():
    matrix = np.arange(100).reshape(10, 10)
    figure = plots.confusion_heatmap(matrix, NAMES)
    heatmap = figure.data[0]
    assert list(heatmap.x) == NAMES and list(heatmap.y) == NAMES
    assert heatmap.z[3][4] == 34 and np.isnan(heatmap.z[2][2])  # the diagonal is drawn apart, in green
    assert figure.data[1].customdata[22][0] == 22 and figure.data[1].x[23] == "3"  # the clickable markers
    assert len(figure.layout.shapes) == 10


def test_curves_grids_and_images():
    history = [{"epoch": 1, "loss": 0.5, "accuracy": 0.8, "val_loss": 0.4, "val_accuracy": 0.85},
               {"epoch": 2, "loss": 0.3, "accuracy": 0.9, "val_loss": 0.35, "val_accuracy": 0.88}]
    progress = [{"step": 0.5, "epoch": 1, "loss": 0.7, "accuracy": 0.7}]
    figure = plots.training_curves(history, progress)
    names = [trace.name for trace in figure.data]
    assert names.count("train") == 2 and names.count("validation") == 2
    assert list(figure.data[1].y) == [0.5, 0.3]
    images = np.zeros((15, 28, 28), np.uint8)
    grid = plots.prediction_grid(images, np.tile(probabilities_with(1), (15, 1)), np.ones(15, int), NAMES)
    assert len(grid.axes) == 30
    assert plots.image_figure(images[0], scaled=True).data[0].zmax == 1
    assert plots.enlarge(images[0], 4).shape == (112, 112)
    assert len(plots.sample_grid(np.zeros((25, 28, 28), np.uint8), np.zeros(25, int), NAMES).axes) == 25
