"""The learning-rate finder's choice without the mouse: a radio of its two suggestions (valley, steepest descent)
decides the rate the "Use learning rate" button sets. Its curve's lines and marks stand out from the page by 3:1."""

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from mnistlib import datasets, lr_finder
from mnistlib import insight_figures as figures
from tests.test_lr_finder import result_script, run
from tests.test_map_keyboard import contrast


@pytest.fixture(scope="module")
def data():
    return datasets.load("mnist", subset="small")


def test_the_steepest_suggestion_can_be_chosen_instead_of_the_valley(data):
    curve, _, _, _ = run(data, steps=40, end=1.0)
    suggestion = lr_finder.suggest(curve.learning_rates, curve.smoothed_losses)
    app = AppTest.from_function(result_script, args=(curve,), default_timeout=60)
    app.run()
    which = app.radio(key="finder_which")
    assert which.value == "valley" and which.options == [f"valley (suggested): {suggestion.valley:.2g}",
                                                         f"steepest descent: {suggestion.steepest:.2g}"]
    which.set_value("steepest").run()
    assert f"Use learning rate {float(f'{suggestion.steepest:.2g}'):g}" == app.button(key="finder_use").label
    app.button(key="finder_use").click().run()
    assert not app.exception and app.session_state["used_rate"] == float(f"{suggestion.steepest:.2g}")


def test_the_finders_curve_and_marks_stand_out_from_the_page():
    rates = np.geomspace(1e-5, 1.0, 30)
    losses = np.concatenate([np.full(10, 2.3), np.linspace(2.3, 0.5, 10), np.linspace(0.5, 3.0, 10)])
    curve = lr_finder.Curve(rates, losses, losses, "finished")
    figure = figures.learning_rate_figure(curve, lr_finder.suggest(rates, losses))
    colours = [trace.line.color for trace in figure.data[:2]] + [trace.marker.color for trace in figure.data[2:]]
    assert len(colours) == 4 and all(contrast(colour, "#ffffff") >= 3 for colour in colours), colours
