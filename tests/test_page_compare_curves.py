"""AppTest of Compare's one chart of both runs' curves and each run's gap sentence, with two real stored models: a
lab run (200 training images, 30% noisy labels, a name with tags) and a default one."""

import json

import pytest

from mnistlib import datasets, names, overfitting, store
from mnistlib.models import ModelSpec
from mnistlib.training import TrainRequest, worker
from tests import page_runs
from tests.page_runs import texts

LAB_NAME = "<b>Lab</b> run [x](y)"
OKABE_ITO = {"#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7"}


def train_and_keep(request: TrainRequest):
    """Train request in this process (the worker the Trainer runs) and store its model: the card."""
    outcome = worker.train(f"compare-{request.key()[:8]}", request.to_dict(), lambda event: None, lambda: False)
    assert outcome.kind == "Finished", outcome.message
    return store.save(outcome.model, outcome.card, outcome.probabilities, hidden_map=outcome.hidden_map)


@pytest.fixture(autouse=True)
def small_subset(monkeypatch):
    monkeypatch.setenv("MNISTLIB_SUBSET", "small")


@pytest.fixture(scope="module")
def runs_store(tmp_path_factory):
    """(store folder, lab card, default card): the two runs in a store of their own."""
    folder = tmp_path_factory.mktemp("compare-curves")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MNISTLIB_SUBSET", "small")
        patch.setenv("MNISTLIB_MODELS_DIR", str(folder))
        lab = train_and_keep(TrainRequest("mnist", ModelSpec(seed=5), epochs=3, subset="small", name=LAB_NAME,
                                          train_images=200, label_noise=0.3))
        default = train_and_keep(TrainRequest("mnist", ModelSpec(seed=6), epochs=2, subset="small",
                                              name="Default run"))
    return folder, lab, default


@pytest.fixture
def two_runs(runs_store, monkeypatch):
    """(lab card, default card), their store the one the page reads."""
    folder, lab, default = runs_store
    monkeypatch.setenv("MNISTLIB_MODELS_DIR", str(folder))
    return lab, default


def curves_figure(app) -> dict:
    [chart] = [chart for chart in app.get("plotly_chart") if "compare_curves" in chart.proto.id]  # its key
    return json.loads(chart.proto.spec)


def test_both_runs_on_one_chart_with_their_gaps(two_runs):
    lab, default = two_runs
    app = page_runs.run_page("app_pages/compare.py", query={"dataset": "mnist", "a": lab.id, "b": default.id})
    figure = curves_figure(app)
    traces = figure["data"]
    # Training and validation of both runs, accuracy (x1) and loss (x2): eight lines, each run's from its card.
    assert len(traces) == 8
    for letter, card in (("A", lab), ("B", default)):
        for kind, key in (("training", "accuracy"), ("validation", "val_accuracy")):
            [trace] = [trace for trace in traces if trace["legendgroup"] == f"{letter}-{kind}"
                       and trace.get("xaxis", "x") in ("x", "x1")]
            assert trace["y"] == pytest.approx([record[key] for record in card.history])
            assert trace["x"] == [record["epoch"] for record in card.history]
            assert trace["name"] == f"{letter}: {names.as_chart_text(card.name)} · {kind}"
    # The model's name is shown as typed: its tags escaped for Plotly, never drawn.
    assert "&lt;b&gt;Lab&lt;/b&gt;" in traces[0]["name"] and "<b>" not in json.dumps([t["name"] for t in traces])
    # Colour-blind-safe colours, one per run, and training vs validation told apart by the dash too.
    colours = {trace["line"]["color"] for trace in traces}
    assert len(colours) == 2 and colours <= OKABE_ITO
    dashes = {trace["legendgroup"].split("-")[1]: trace["line"]["dash"] for trace in traces}
    assert dashes == {"training": "solid", "validation": "dash"}
    assert len({trace["marker"]["symbol"] for trace in traces}) == 2  # and A's markers differ from B's
    # Under the chart: each run's final gap against noise, with its lab settings (the name shown as text).
    size = len(datasets.load("mnist", subset="small").y_train)
    for letter, card in (("A", lab), ("B", default)):
        sentence = overfitting.gap_sentence(overfitting.card_verdict(card.to_dict(), size))
        assert f"**{letter}** ({names.as_text(card.name)}): {names.as_text(sentence)}" in [m.value for m in
                                                                                         app.markdown]
    lab_sentence = overfitting.gap_sentence(overfitting.card_verdict(lab.to_dict(), size))
    assert lab_sentence.endswith("lab settings changed from their defaults: 200 training images, 30% noisy labels.")
    assert "20% of which" not in lab_sentence and "30% of which were replaced by a wrong class" in lab_sentence
    assert overfitting.gap_sentence(overfitting.card_verdict(default.to_dict(), size)).endswith(
        "every lab setting at its default.")
    assert "Solid lines: training; dashed: validation." in texts(app)


def test_a_run_without_a_validation_split_has_no_validation_lines(tmp_path, monkeypatch):
    monkeypatch.setenv("MNISTLIB_MODELS_DIR", str(tmp_path))
    plain = train_and_keep(TrainRequest("mnist", ModelSpec(seed=7, validation_split=0.0), epochs=1, subset="small",
                                        name="No split"))
    other = train_and_keep(TrainRequest("mnist", ModelSpec(seed=8), epochs=1, subset="small", name="Split"))
    app = page_runs.run_page("app_pages/compare.py", query={"dataset": "mnist", "a": plain.id, "b": other.id})
    groups = [trace["legendgroup"] for trace in curves_figure(app)["data"]]
    assert sorted(groups) == sorted(["A-training"] * 2 + ["B-training"] * 2 + ["B-validation"] * 2)
    assert "No validation figure, so the gap between training and validation accuracy cannot be judged" in texts(app)
