"""The hidden-space map without the mouse: its colours and shapes, the nearest points (checked against a brute-force
reference), and the page's controls choosing by class and by image (AppTest)."""

import numpy as np
import pytest

from mnistlib import datasets, store
from mnistlib import insight_figures as figures
from tests.page_runs import run_page, texts
from tests.test_ui_insight import plotted_map, train_with_map


@pytest.fixture(autouse=True)
def small_subset(monkeypatch):
    monkeypatch.setenv("MNISTLIB_SUBSET", "small")


def relative_luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    high, low = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_ten_classes_get_okabe_ito_colours_and_ten_distinct_colour_shape_pairs():
    colours, symbols = figures.class_colours(10), figures.class_symbols(10)
    assert colours[:8] == ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000"]
    assert len(set(zip(colours, symbols, strict=True))) == 10 and len(set(symbols)) == 10
    # Each mark's edge stands out from the white page by WCAG 1.4.11's 3:1, whatever its fill.
    assert contrast(figures.MARK_EDGE, "#ffffff") >= 3 and contrast(figures.CHOSEN, "#ffffff") >= 3


def test_nearest_points_match_a_brute_force_reference():
    points = np.random.default_rng(3).normal(size=(50, 2))
    reference = sorted((float(np.hypot(*(points[k] - points[12]))), k) for k in range(50) if k != 12)
    assert figures.nearest_points(points, 12, 5).tolist() == [k for _, k in reference[:5]]
    assert len(figures.nearest_points(points, 0, 500)) == 49  # never more than the other points
    with pytest.raises(ValueError, match="no test image 50"):
        figures.nearest_points(points, 50, 3)


def test_the_map_is_chosen_by_class_and_by_image_with_the_keyboard(models_dir):
    card, _ = train_with_map()
    data = datasets.load("mnist", subset="small")
    app = run_page("app_pages/insight.py", query={"model": card.id})
    assert len(plotted_map(app)["data"]) == 11  # nothing chosen: the ten classes and the ringed mistakes
    app.radio(key="insight_map_keys_way").set_value("one class").run()
    app.selectbox(key="insight_map_keys_class").set_value(3).run()
    assert not app.exception, app.exception
    threes = np.flatnonzero(data.y_test == 3)
    assert f"{len(threes)} image(s) selected" in texts(app)
    chosen = plotted_map(app)["data"][-1]
    assert chosen["name"] == "chosen (ringed blue)" and [row[0] for row in chosen["customdata"]] == threes.tolist()

    app.radio(key="insight_map_keys_way").set_value("nearest").run()
    app.number_input(key="insight_map_keys_index").set_value(7).run()
    app.number_input(key="insight_map_keys_count").set_value(4).run()
    assert not app.exception, app.exception
    nearest = figures.nearest_points(store.load_hidden_map(card.id)[1][-1], 7, 4).tolist()  # as stored, float16
    [table] = [frame.value for frame in app.dataframe if "distance on the map" in frame.value.columns]
    assert table["test image"].tolist() == nearest
    assert set(table["result"]) <= {"✓ right", "✗ wrong"}
    assert "The 4 points nearest to test image 7" in texts(app) and "5 image(s) selected" in texts(app)


def test_the_map_is_also_a_table_per_class_and_per_point(models_dir):
    card, _ = train_with_map()
    data = datasets.load("mnist", subset="small")
    points = store.load_hidden_map(card.id)[1][-1].astype(np.float64)
    predicted = store.load_probabilities(card.id)[-1].argmax(axis=1)
    app = run_page("app_pages/insight.py", query={"model": card.id})
    assert not app.exception
    [classes] = [table.value for table in app.table if "mean distance from the centre" in table.value.columns]
    assert classes["test images"].tolist() == np.bincount(data.y_test, minlength=10).tolist()
    assert classes["mistakes"].tolist() == [int(((data.y_test == k) & (predicted != k)).sum()) for k in range(10)]
    np.testing.assert_allclose(classes["centre, first direction"][4], points[data.y_test == 4, 0].mean(), atol=1e-3)
    [every] = [frame.value for frame in app.dataframe if "first direction" in frame.value.columns]
    assert len(every) == len(data.y_test) and every["true class"][9] == data.class_names[data.y_test[9]]
    np.testing.assert_allclose(every["second direction"], points[:, 1], atol=1e-4)

