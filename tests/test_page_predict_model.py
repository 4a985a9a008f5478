"""Predict: the open model can be renamed or deleted by its owner, and taken home (.keras and a train.py project)."""

import pytest

from mnistlib import store
from tests.page_runs import run_page

ADA, BOB = store.Actor("ada", "Ada"), store.Actor("bob", "Bob")


@pytest.fixture(autouse=True)
def small_subset(monkeypatch):
    monkeypatch.setenv("MNISTLIB_SUBSET", "small")


def labels(app, kind):
    return [element.proto.label for element in app.get(kind)]


def test_the_owner_renames_the_model_from_predict_and_both_downloads_are_offered(models_dir):
    from tests.conftest import train_and_store

    card = train_and_store("mnist", epochs=1)
    store.ownership.add_owner(card.id, ADA)
    app = run_page("app_pages/predict.py", query={"model": card.id}, session={"actor": ADA})
    assert {"Model (.keras)", "Train it yourself (.zip)"} <= set(labels(app, "download_button"))
    app.text_input(key="predict_manage_name").set_value("my first net")
    app.button(key="predict_manage_rename").click().run()
    assert not app.exception
    assert [owner.name for owner in store.ownership.owners_of(card.id)] == ["my first net"]
    assert any("my first net" in element.value for element in app.success)


def test_someone_elses_model_offers_no_rename_and_says_whose_it_is(models_dir):
    from tests.conftest import train_and_store

    card = train_and_store("mnist", epochs=1)
    store.ownership.add_owner(card.id, ADA)
    app = run_page("app_pages/predict.py", query={"model": card.id}, session={"actor": BOB})
    assert "predict_manage_name" not in [element.key for element in app.text_input]
    assert any("belongs to Ada" in element.value for element in app.caption)
    assert {"Model (.keras)", "Train it yourself (.zip)"} <= set(labels(app, "download_button"))


def test_damaged_models_are_counted_in_the_picker_and_the_teacher_deletes_them_on_the_board(models_dir):
    from tests.conftest import train_and_store

    good, bad = train_and_store("mnist", epochs=1), train_and_store("mnist", epochs=1, name="bad")
    (models_dir / bad.id / "card.json").write_text("{ truncated")
    store.index.rebuild()
    app = run_page("app_pages/predict.py", query={"model": good.id}, session={"actor": ADA})
    assert any("1 saved model(s) are damaged" in element.value for element in app.caption)
    board = run_page("app_pages/board.py", session={"actor": store.TEACHER})
    board.button(key="teacher_delete_damaged").click().run()
    assert not board.exception and not (models_dir / bad.id).exists() and (models_dir / good.id).exists()
    assert store.broken() == []
