"""The charts that tell things apart by colour use the one Okabe–Ito palette (plots.OKABE_ITO), say the same by a
shape, a pattern or a letter too, and draw every mark at 3:1 or more against the white page (WCAG 1.4.11)."""

from types import SimpleNamespace

import numpy as np

from dashboard.compare_curves import two_runs_figure
from mnistlib import board, plots
from mnistlib import insight_figures as figures
from tests.test_map_keyboard import contrast

WHITE = "#ffffff"


def outlined_or_dark(marker) -> bool:
    """A mark stands out from the page by its fill or, for the light colours, by its outline."""
    line = marker.line.color if marker.line is not None else None
    return contrast(marker.color, WHITE) >= 3 or (line is not None and contrast(line, WHITE) >= 3)


def entry(architecture: str, parameters: int, accuracy: float | None):
    """What accuracy_figure reads of a store index entry."""
    return SimpleNamespace(architecture=architecture, parameters=parameters, val_accuracy=accuracy, name="m",
                           trained_by="ada", owners=1, settings="s", epochs_run=3)


def test_the_palette_is_okabe_and_itos_in_one_place():
    assert plots.OKABE_ITO == ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7",
                               "#000000"]
    assert figures.OKABE_ITO is plots.OKABE_ITO and figures.MARK_EDGE == plots.MARK_EDGE  # reused, not copied
    assert set(plots.MODEL_COLOURS) <= set(plots.OKABE_ITO)
    assert all(contrast(colour, WHITE) >= 3 for colour in (*plots.MODEL_COLOURS, plots.MARK_EDGE))
    # The light ones that need the outline: orange, sky blue and yellow.
    assert [colour for colour in plots.OKABE_ITO if contrast(colour, WHITE) < 3] == ["#E69F00", "#56B4E9", "#F0E442"]


def test_the_boards_architectures_differ_by_colour_and_shape_in_a_legend():
    entries = [entry("dense", 100_000, 0.9), entry("cnn", 50_000, 0.95), entry("cnn", 60_000, None),
               *[entry(f"new{k}", 1000 * (k + 1), 0.5) for k in range(6)]]
    figure = board.accuracy_figure(entries)
    assert [trace.name for trace in figure.data][:2] == ["CNN", "Dense"] and figure.layout.showlegend
    markers = [trace.marker for trace in figure.data]
    assert all(marker.color in plots.OKABE_ITO for marker in markers)
    assert (markers[0].color, markers[0].symbol) == ("#D55E00", "diamond")
    assert (markers[1].color, markers[1].symbol) == ("#0072B2", "circle")
    assert len({marker.symbol for marker in markers[:7]}) == 7  # the known two and five others, all different
    assert all(outlined_or_dark(marker) for marker in markers)
    assert all(marker.opacity in (None, 1) for marker in markers)  # a see-through fill would lose contrast


def test_compares_per_class_bars_differ_by_colour_pattern_and_letter():
    errors = [np.array([0.1, 0.0, 0.25]), np.array([0.05, 0.2, 0.0])]
    figure = plots.per_class_error_bars(errors, ["0", "1", "<b>2</b>"])
    first, second = figure.data
    assert [first.name, second.name] == ["model A", "model B"] and figure.layout.barmode == "group"
    assert (first.marker.color, second.marker.color) == plots.MODEL_COLOURS
    assert first.marker.pattern.shape != second.marker.pattern.shape and second.marker.pattern.shape
    assert list(first.text) == ["A"] * 3 and list(second.text) == ["B"] * 3
    assert all(outlined_or_dark(bar.marker) for bar in figure.data)
    np.testing.assert_allclose(second.y, errors[1])
    assert list(first.x) == ["0", "1", "&lt;b&gt;2&lt;/b&gt;"]  # class names shown as text, never as markup


def test_compares_curves_use_the_same_colours_for_a_and_b():
    history = [{"epoch": 1, "loss": 1.0, "accuracy": 0.5, "val_loss": 1.1, "val_accuracy": 0.4}]
    figure = two_runs_figure([("A", "first", history), ("B", "second", history)])
    by_run = {trace.legendgroup.split("-")[0]: trace.line.color for trace in figure.data}
    assert by_run == {"A": plots.MODEL_COLOURS[0], "B": plots.MODEL_COLOURS[1]}
    assert len({trace.marker.symbol for trace in figure.data}) == 2


def test_the_maps_classes_are_outlined():
    figure = figures.hidden_space_figure(np.zeros((10, 2)), np.arange(10), np.arange(10), [str(k) for k in range(10)])
    classes = figure.data[:10]
    assert all(trace.marker.color in plots.OKABE_ITO and outlined_or_dark(trace.marker) for trace in classes)
    assert len({(trace.marker.color, trace.marker.symbol) for trace in classes}) == 10
