"""The class board's chart without the mouse: a select box lists the chart's models (those with a validation
accuracy) and links the chosen one to Predict; a name typed by a student stays text in the link."""

import pytest

from mnistlib import store
from tests.test_page_board import ADA, BOB, read_files, run_board, save_copy


@pytest.fixture(autouse=True)
def small_subset(monkeypatch):
    monkeypatch.setenv("MNISTLIB_SUBSET", "small")


@pytest.fixture(scope="session")
def files(stored_mnist_model):
    """A real model's files, read from the session's store before a test switches to its own empty one."""
    return read_files(stored_mnist_model)


def test_a_model_of_the_chart_opens_on_predict_from_a_select_box(files, models_dir):
    save_copy(files, [ADA], "ada's *digits*")
    bobs = save_copy(files, [BOB], "bob's")
    # Trained without a validation split: not on the chart, so not in the list.
    save_copy(files, [BOB], "no validation", history=[{**record, "val_loss": None, "val_accuracy": None}
                                                      for record in files["card"]["history"]])
    app = run_board(ADA)
    box = app.selectbox(key="board_chart_model")
    assert box.value is None and len(box.options) == 2
    assert [option.split(" — ")[0] for option in box.options] == ["ada's *digits*", "bob's"]  # yours first
    assert f"{bobs.parameters:,} parameters · validation {bobs.val_accuracy:.2%}" in box.options[1]
    box.set_value(1).run()
    assert not app.exception
    links = [str(element.proto) for element in app.get("page_link")] + [m.value for m in app.markdown]
    assert any("Open bob" in link and f"model={bobs.id}" in link for link in links), links
    box.set_value(0).run()
    links = [str(element.proto) for element in app.get("page_link")] + [m.value for m in app.markdown]
    assert any(r"ada's \*digits\*" in link for link in links)  # escaped: shown as typed, not in italics
    assert store.load_card(bobs.id).val_accuracy is not None
