"""The class board through AppTest: every model with who trained it and its settings, test accuracy hidden until
the teacher reveals it, filters, opening a model on Predict, and the teacher deleting models and clearing the board."""

import json

import pytest
from streamlit.testing.v1 import AppTest

from mnistlib import board, models, store, students
from tests.conftest import train_and_store
from tests.page_runs import REPO, run_page, texts

ADA, BOB, CY = store.Actor("ada", "Ada"), store.Actor("bob", "Bob"), store.Actor("cy", "Cy")


@pytest.fixture(autouse=True)
def small_subset(monkeypatch):
    monkeypatch.setenv("MNISTLIB_SUBSET", "small")


def read_files(card) -> dict:
    """A stored model's files (read from the store it is in now), to be stored again under other owners."""
    return {"keras": store.model_bytes(card.id), "probabilities": store.load_probabilities(card.id),
            "card": {key: value for key, value in card.to_dict().items()
                     if key not in ("id", "created", "name", "trained_by")}}


@pytest.fixture(scope="session")
def dense_files(stored_mnist_model):
    """A real Dense model trained 3 epochs on MNIST's small subset (its .keras file, card and probabilities)."""
    return read_files(stored_mnist_model)


@pytest.fixture(scope="session")
def cnn_files(stored_mnist_model):
    """A real CNN trained 1 epoch on MNIST's small subset."""
    return read_files(train_and_store("mnist", epochs=1, name="cnn",
                                      spec=models.ModelSpec(architecture="cnn", validation_split=0.1)))


@pytest.fixture(scope="session")
def fashion_files(stored_fashion_model):
    return read_files(stored_fashion_model)


def save_copy(files: dict, owners, name: str, **card_changes) -> store.ModelCard:
    """Store a real model's files again, for these owners (the first is who trained it), under this name."""
    return store.save(files["keras"], {**files["card"], "name": name, **card_changes}, files["probabilities"],
                      owners=owners)


def run_board(actor=None, query=None, session=None) -> AppTest:
    acting = {"actor": actor} if actor is not None else {}
    return run_page("app_pages/board.py", query, {**acting, **(session or {})})


def table(app):
    """The board's table as shown (a pandas DataFrame)."""
    return next(frame for frame in app.dataframe if (frame.key or "").startswith("board_table_")).value


def select(app, model_id: str, rows) -> AppTest:
    """Select a model's row, as a click on the row's box does."""
    frame = next(frame for frame in app.dataframe if (frame.key or "").startswith("board_table_"))
    app.session_state[frame.key] = {"selection": {"rows": [rows.index(model_id)], "columns": [], "cells": []}}
    app.run()
    assert not app.exception, app.exception
    return app


def test_the_board_lists_every_model_with_who_and_settings_and_hides_test_accuracy(
        models_dir, dense_files, cnn_files):
    adas = save_copy(dense_files, [ADA], "ada's dense")
    shared = save_copy(cnn_files, [BOB, CY], "bob's cnn")
    stopped = save_copy(dense_files, [CY], "stopped early", epochs_requested=5)
    app = run_board(ADA)
    shown = table(app)
    assert list(shown["Model"]) == ["ada's dense", "stopped early", "bob's cnn"]  # hers first, then newest first
    assert list(shown["Yours"]) == [True, False, False]
    assert list(shown["Trained by"]) == ["Ada", "Cy", "Bob +1"]
    assert list(shown["Architecture"]) == ["Dense", "Dense", "CNN"]
    cnn_spec = models.ModelSpec.from_dict(shared.spec)
    assert shown["Settings"][2] == cnn_spec.describe()
    assert shown["Parameters"][2] == models.count_parameters(cnn_spec)
    assert list(shown["Epochs"]) == [3, 3, 1] and list(shown["Stopped early"]) == [False, True, False]
    assert shown["Validation accuracy"][0] == pytest.approx(adas.val_accuracy)
    assert shown["Validation accuracy"][1] == pytest.approx(stopped.val_accuracy)
    assert set(shown["Dataset"]) == {"MNIST digits"} and set(shown["Subset"]) == {"small"}
    assert board.TEST_COLUMN not in shown.columns
    assert "test accuracy is hidden until your teacher reveals it" in texts(app) and "stays hidden" not in texts(app)
    assert "The test set is the final exam" in texts(app)
    assert not [widget for widget in app.toggle if widget.key == "teacher_reveal_test"]  # students cannot reveal


def test_the_teacher_reveals_test_accuracy_for_the_whole_class(models_dir, dense_files):
    card = save_copy(dense_files, [ADA], "ada's")
    teacher = run_board(store.TEACHER)
    assert board.TEST_COLUMN not in table(teacher).columns
    teacher.toggle(key="teacher_reveal_test").set_value(True).run()
    assert not teacher.exception
    assert students.test_revealed()
    assert table(teacher)[board.TEST_COLUMN][0] == pytest.approx(card.test_accuracy)
    student = run_board(ADA)
    assert table(student)[board.TEST_COLUMN][0] == pytest.approx(card.test_accuracy)
    assert "Your teacher has revealed test accuracy" in texts(student)
    teacher.toggle(key="teacher_reveal_test").set_value(False).run()
    assert not students.test_revealed() and board.TEST_COLUMN not in table(run_board(ADA)).columns


def test_filters_by_dataset_and_whose(models_dir, dense_files, fashion_files):
    adas = save_copy(dense_files, [ADA], "ada's digits")
    bobs = save_copy(dense_files, [BOB], "bob's digits")
    fashion = save_copy(fashion_files, [ADA], "ada's clothes")
    teachers = save_copy(dense_files, [store.TEACHER], "the teacher's example")
    app = run_board(ADA)
    assert list(table(app)["Model"]) == ["ada's digits", "the teacher's example", "bob's digits"]
    app.selectbox(key="board_dataset").set_value("fashion_mnist").run()
    assert list(table(app)["Model"]) == ["ada's clothes"]
    app.selectbox(key="board_dataset").set_value("all").run()
    assert set(table(app)["Model"]) == {card.name for card in (adas, bobs, fashion, teachers)}
    assert "Different datasets are mixed here" in texts(app)
    app.radio(key="board_scope").set_value("mine").run()
    assert list(table(app)["Model"]) == ["ada's clothes", "ada's digits"]
    app.radio(key="board_scope").set_value("teacher").run()
    assert list(table(app)["Model"]) == ["the teacher's example"]
    assert not app.exception


def test_the_chart_draws_validation_accuracy_against_parameters_by_architecture(models_dir, dense_files, cnn_files):
    save_copy(dense_files, [ADA], "<b>bold</b>")
    save_copy(cnn_files, [BOB], "cnn")
    figure = board.accuracy_figure(store.entries("mnist", viewer="ada"))
    assert [trace.name for trace in figure.data] == ["CNN", "Dense"] and figure.layout.xaxis.type == "log"
    dense = figure.data[1]
    assert list(dense.x) == [models.count_parameters(models.ModelSpec.from_dict(dense_files["card"]["spec"]))]
    assert dense.customdata[0][0] == "&lt;b&gt;bold&lt;/b&gt;"  # shown as text by Plotly, never as markup
    assert run_board(ADA).get("plotly_chart")


def test_a_selected_row_opens_its_model_on_predict(models_dir, dense_files, fashion_files, tmp_path):
    save_copy(dense_files, [ADA], "ada's digits")
    clothes = save_copy(fashion_files, [BOB], "bob's clothes")
    # The app's navigation, without app.py's start of the trainer's worker processes (nothing is trained here).
    (tmp_path / "app_pages").symlink_to(REPO / "app_pages")
    (tmp_path / "navigation.py").write_text(
        "import streamlit as st\nfrom dashboard import layout\n"
        "st.navigation([st.Page(page.path, title=page.title, url_path=page.url_path, default=page.default)"
        " for page in layout.PAGES]).run()\n")
    app = AppTest.from_file(str(tmp_path / "navigation.py"), default_timeout=90)
    app.session_state["actor"] = ADA
    app.run()
    app.switch_page("app_pages/board.py").run()
    assert not app.exception
    app.selectbox(key="board_dataset").set_value("all").run()
    select(app, clothes.id, [entry.id for entry in store.entries(viewer="ada")])
    assert f"By Bob · {models.ModelSpec.from_dict(clothes.spec).describe()}" in texts(app).replace("\\", "")
    app.button(key="board_open").click().run()
    assert not app.exception
    assert app.title[0].value == "Predictions on the test set"
    assert app.session_state["model"] == clothes.id and app.session_state["dataset"] == "fashion_mnist"
    assert app.query_params["model"] == clothes.id


def test_the_selected_model_offers_its_downloads(models_dir, dense_files):
    card = save_copy(dense_files, [ADA], "ada's")
    app = select(run_board(ADA), card.id, [card.id])
    downloads = {button.proto.label for button in app.get("download_button")}
    assert downloads == {"Model (.keras)", "Card (.json)"}
    assert "test results left out until they are revealed" in " ".join(
        button.proto.help for button in app.get("download_button"))


def test_the_teacher_deletes_any_model(models_dir, dense_files):
    bobs = save_copy(dense_files, [BOB, ADA], "bob's")
    kept = save_copy(dense_files, [CY], "cy's")
    app = select(run_board(store.TEACHER), bobs.id, [kept.id, bobs.id])
    app.button(key="board_manage_delete").click().run()
    assert not app.exception
    assert "Deleted for the whole class." in texts(app)
    assert not (models_dir / bobs.id).exists()
    assert list(table(app)["Model"]) == ["cy's"]


def test_the_teacher_clears_the_board_after_typing_the_confirmation(models_dir, dense_files):
    cards = [save_copy(dense_files, [owner], f"{owner.display}'s") for owner in (ADA, BOB)]
    app = run_board(store.TEACHER)
    app.text_input(key="teacher_clear_confirm").set_value("yes").run()
    app.button(key="teacher_clear_board").click().run()
    assert "Nothing was deleted" in texts(app) and all((models_dir / card.id).is_dir() for card in cards)
    app.text_input(key="teacher_clear_confirm").set_value("Delete every model").run()
    app.button(key="teacher_clear_board").click().run()
    assert not app.exception
    assert "The board is cleared: 2 model(s) deleted." in texts(app)
    assert store.entries() == [] and not any((models_dir / card.id).exists() for card in cards)
    assert "No model here yet" in texts(app)


def test_the_teacher_frees_a_students_name(models_dir):
    students.register("Ada")
    students.register("Bob")
    app = run_board(store.TEACHER)
    roster = next(frame for frame in app.dataframe if "Joined (UTC)" in frame.value.columns).value
    assert list(roster["Name"]) == ["Ada", "Bob"]
    app.selectbox(key="teacher_free_name").set_value("bob").run()
    app.button(key="teacher_free_button").click().run()
    assert not app.exception and "Freed" in texts(app)
    assert [student["key"] for student in students.roster()] == ["ada"]
    actor, _ = students.register("Bob")  # the next browser to type it gets it
    assert actor.key == "bob"


def test_the_downloaded_card_leaves_out_the_test_results_until_they_are_revealed(models_dir, dense_files):
    card = save_copy(dense_files, [ADA], "ada's")
    hidden, revealed = json.loads(board.card_json(card, False)), json.loads(board.card_json(card, True))
    assert revealed == card.to_dict()
    assert "test_accuracy" not in hidden and "test_loss" not in hidden
    assert hidden == {key: value for key, value in card.to_dict().items() if key not in ("test_accuracy", "test_loss")}


def page_with_manage():
    """A page showing the open model's card with models_ui.manage, as Predict can."""
    import streamlit as st

    from dashboard import models as models_ui
    from mnistlib import store

    models_ui.flash()
    if st.session_state.get("model"):
        card = store.load_card(st.session_state["model"])
        st.subheader(card.name)
        models_ui.manage(card)
    else:
        st.write("No model open.")


def test_manage_renames_and_deletes_the_open_model_of_a_page(models_dir, dense_files):
    shared = save_copy(dense_files, [BOB, ADA], "bob's")
    app = AppTest.from_function(page_with_manage, default_timeout=90)
    app.session_state["actor"], app.session_state["model"] = ADA, shared.id
    app.run()
    assert app.text_input(key="manage_name").value == "bob's"  # her name for it, in her list
    app.text_input(key="manage_name").set_value("Ada's copy")
    app.button(key="manage_rename").click().run()
    assert [message.value for message in app.success] == ["Renamed: it is now “Ada's copy” in your list."]
    assert [(owner.key, owner.name) for owner in store.ownership.owners_of(shared.id)] == [
        ("bob", "bob's"), ("ada", "Ada's copy")]
    app.button(key="manage_delete").click().run()
    assert not app.exception
    assert [message.value for message in app.success] == [
        "Removed from your list; 1 other student(s) still have it, so its files stay."]
    assert "model" not in app.session_state and "No model open." in app.markdown[0].value
    assert [owner.key for owner in store.ownership.owners_of(shared.id)] == ["bob"]
