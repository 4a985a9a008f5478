"""mnistlib.lr_finder: the rising rates, fastai's smoothing and stop rule, suggestions, restored model."""

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from mnistlib import datasets, lr_finder, models
from mnistlib import insight_figures as figures


@pytest.fixture(scope="module")
def data():
    return datasets.load("mnist", subset="small")


def run(data, spec=None, stop_after=None, **settings):
    """The finder on a fresh small model; returns (curve, reported events, model, weights before)."""
    model = models.build(spec or models.ModelSpec(hidden_units=16, seed=3))
    before = [weights.copy() for weights in model.get_weights()]
    events, calls = [], []

    def should_stop():
        calls.append(1)
        return stop_after is not None and len(calls) > stop_after

    def report(step, steps, learning_rate, loss, smoothed_loss):
        events.append({"step": step, "steps": steps, "learning_rate": learning_rate, "loss": loss,
                       "smoothed_loss": smoothed_loss})

    curve = lr_finder.find_learning_rate(model, data.x_train, data.y_train, 32, report, should_stop, **settings)
    return curve, events, model, before


def test_rates_rise_exponentially_from_start_to_end():
    rates = lr_finder.learning_rates(1e-6, 1.0, 100)
    assert rates[0] == pytest.approx(1e-6) and rates[-1] == pytest.approx(1.0)
    np.testing.assert_allclose(rates[1:] / rates[:-1], (1e6) ** (1 / 99))
    with pytest.raises(ValueError, match="must rise"):
        lr_finder.learning_rates(1.0, 1e-6, 100)
    with pytest.raises(ValueError, match="6 to 10,000 steps"):
        lr_finder.learning_rates(1e-6, 1.0, 3)


def test_smoothing_is_a_bias_corrected_moving_average():
    beta = 0.98
    expected = [1.0, (beta * 0.02 + 0.02 * 2) / (1 - beta**2)]
    expected.append((beta * (beta * 0.02 + 0.04) + 0.02 * 3) / (1 - beta**3))
    np.testing.assert_allclose(lr_finder.smooth([1.0, 2.0, 3.0]), expected)


def test_the_loss_explodes_and_the_run_stops_early(data):
    curve, events, model, before = run(data, steps=100, end=1e4)
    assert curve.ended == "exploded" and 6 < len(curve.learning_rates) < 100
    assert np.all(np.diff(curve.learning_rates) > 0)  # the curve runs left to right in learning rate
    np.testing.assert_allclose(curve.learning_rates, lr_finder.learning_rates(1e-6, 1e4, 100)[: len(curve.losses)])
    np.testing.assert_allclose(curve.smoothed_losses, lr_finder.smooth(curve.losses))
    assert curve.smoothed_losses[-1] > 4 * curve.smoothed_losses.min()
    assert (curve.smoothed_losses[:-1] <= 4 * np.minimum.accumulate(curve.smoothed_losses)[:-1]).all()
    assert [event["step"] for event in events] == list(range(1, len(curve.losses) + 1))
    assert events[-1]["learning_rate"] == pytest.approx(curve.learning_rates[-1])
    for kept, now in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(kept, now)  # the model is as it was
    assert float(model.optimizer.learning_rate) == pytest.approx(0.001)
    suggestion = lr_finder.suggest(curve.learning_rates, curve.smoothed_losses)
    for rate in (suggestion.valley, suggestion.steepest):
        assert curve.learning_rates[0] <= rate <= curve.learning_rates[-1]
    assert lr_finder.Curve.from_dict(curve.to_dict()).ended == "exploded"


def test_low_rates_run_every_step_and_a_stop_ends_it(data):
    curve, events, _, _ = run(data, steps=12, end=1e-4)
    assert curve.ended == "finished" and len(curve.losses) == len(events) == 12
    stopped, events, _, _ = run(data, steps=30, stop_after=4)
    assert stopped.ended == "stopped" and len(stopped.losses) == len(events) == 4


def test_suggestions_on_a_curve_with_a_known_steepest_point():
    rates = lr_finder.learning_rates(1e-6, 1.0, 100)
    exponent = np.log10(rates)
    # Falls fastest at 1e-3 (the centre of tanh), flat around 1e-2, rises after.
    losses = 2.3 - np.tanh(1.5 * (exponent + 3)) + np.where(exponent > -1.5, 3 * (exponent + 1.5) ** 2, 0)
    suggestion = lr_finder.suggest(rates, losses)
    spacing = rates[1] / rates[0]
    assert 1e-3 / spacing <= suggestion.steepest <= 1e-3 * spacing
    assert rates[10] <= suggestion.valley <= rates[-6]
    assert losses[np.searchsorted(rates, suggestion.valley)] < losses[10]  # on the falling part
    assert suggestion.learning_rate == suggestion.valley


def test_the_nearest_choice_is_nearest_on_a_log_axis():
    choices = [0.0001, 0.0003, 0.001, 0.003, 0.01]
    assert lr_finder.nearest_choice(0.0019, choices) == 0.003  # ×1.58 up beats ×1.9 down
    assert lr_finder.nearest_choice(0.0016, choices) == 0.001
    assert lr_finder.nearest_choice(5.0, choices) == 0.01 and lr_finder.nearest_choice(1e-9, choices) == 0.0001
    with pytest.raises(ValueError, match="positive"):
        lr_finder.nearest_choice(0.0, choices)


def test_bad_input_gets_a_sentence(data):
    with pytest.raises(ValueError, match="exploded too soon"):
        lr_finder.suggest([1e-6, 1e-5, 1e-4, 1e-3], [2.3, 2.2, 9.0, 50.0])
    with pytest.raises(ValueError, match="rising learning rates"):
        lr_finder.suggest([1e-3, 1e-4], [1.0, 2.0])
    model = models.build(models.ModelSpec(hidden_units=4))
    with pytest.raises(ValueError, match="at least one batch"):
        lr_finder.find_learning_rate(model, data.x_train[:10], data.y_train[:10], 32, lambda *_: None, lambda: False)


def result_script(curve):
    import streamlit as st

    from dashboard.train import lr_finder as train_lr_finder

    def use(rate, suggested):
        st.session_state["used_rate"] = rate

    st.session_state["suggested"] = train_lr_finder.learning_rate_result(curve, key="finder", on_use=use)


def test_the_curve_is_drawn_with_its_suggestion_and_one_click_uses_it(data):
    curve, _, _, _ = run(data, steps=40, end=1.0)
    figure = figures.learning_rate_figure(curve, lr_finder.suggest(curve.learning_rates, curve.smoothed_losses))
    assert figure.layout.xaxis.type == "log" and len(figure.data) == 4
    np.testing.assert_allclose(figure.data[1].y, curve.smoothed_losses)
    app = AppTest.from_function(result_script, args=(curve,), default_timeout=60)
    app.run()
    assert not app.exception, app.exception
    suggested = app.session_state["suggested"]
    assert curve.learning_rates[0] <= suggested <= curve.learning_rates[-1]
    app.button(key="finder_use").click().run()
    assert not app.exception and app.session_state["used_rate"] == float(f"{suggested:.2g}")
    short = lr_finder.Curve(curve.learning_rates[:4], curve.losses[:4], curve.smoothed_losses[:4], "exploded")
    app = AppTest.from_function(result_script, args=(short,), default_timeout=60)
    app.run()
    assert not app.exception and "exploded too soon" in app.warning[0].value and app.session_state["suggested"] is None
