"""Rights through the pages: a student renames and deletes only their own models, whatever the page's state or the
URL names; the teacher's panel grants nothing by itself; bad names are cleaned or refused and shown as text."""

import pytest

from mnistlib import names, store, students
from tests.test_page_board import ADA, BOB, read_files, run_board, save_copy, select, table, texts

BAD_NAMES = {  # typed name → (kept as, or None when refused, and the refusal's words)
    "empty": ("", None, "cannot be empty"),
    "spaces only": ("   \t ", None, "cannot be empty"),
    "10,000 characters": ("x" * 10_000, None, "can be at most"),
    "control characters": ("net\x00\x07\x1b[31m 2", "net[31m 2", None),
    "script tag": ("<script>alert(1)</script>", "<script>alert(1)</script>", None),
    "markdown": ("**bold** _it_ [link](http://example.com)", "**bold** _it_ [link](http://example.com)", None),
    "right-to-left marks": ("\u202egnp.exe\u200f\u200b", "gnp.exe", None),
}


@pytest.fixture(autouse=True)
def small_subset(monkeypatch):
    monkeypatch.setenv("MNISTLIB_SUBSET", "small")


@pytest.fixture(scope="session")
def dense_files(stored_mnist_model):
    """A real Dense model trained 3 epochs on MNIST's small subset (its .keras file, card and probabilities)."""
    return read_files(stored_mnist_model)


def on_disk(models_dir) -> dict:
    """Every file of the store's model folders and its bytes (the index and lock files left out)."""
    return {str(path.relative_to(models_dir)): path.read_bytes() for path in sorted(models_dir.glob("*-*-*/*"))
            if path.name != ".lock"}


def plain(text: str) -> str:
    """Markdown-escaped page text with its escapes (and names.as_text's invisible word joiners) removed."""
    return text.replace("\\", "").replace(names.WORD_JOINER, "")


def test_a_student_gets_no_rename_or_delete_for_anothers_model(models_dir, dense_files):
    adas = save_copy(dense_files, [ADA], "ada's")
    bobs = save_copy(dense_files, [BOB], "bob's")
    app = select(run_board(ADA), bobs.id, [adas.id, bobs.id])
    keys = {widget.key for widget in app.button} | {widget.key for widget in app.text_input}
    assert not keys & {"board_manage_rename", "board_manage_delete", "board_manage_name"}
    assert ("Not in your list (it belongs to Bob): only the students who have it, or the teacher, can rename or "
            "delete it.") in plain(texts(app))
    select(app, adas.id, [adas.id, bobs.id])
    assert app.button(key="board_manage_delete") and app.text_input(key="board_manage_name").value == "ada's"


@pytest.mark.parametrize("action", ["rename", "delete"])
def test_a_forged_model_id_in_the_session_is_refused_and_changes_nothing(models_dir, dense_files, action):
    adas = save_copy(dense_files, [ADA], "ada's")
    bobs = save_copy(dense_files, [BOB], "bob's")
    app = select(run_board(ADA), adas.id, [adas.id, bobs.id])
    before = on_disk(models_dir)
    # The controls are Ada's, but the state they act on now names Bob's model (as a forged request would).
    app.session_state["board_manage_model"] = bobs.id
    if action == "rename":
        app.text_input(key="board_manage_name").set_value("mine now")
        app.button(key="board_manage_rename").click().run()
    else:
        app.button(key="board_manage_delete").click().run()
    assert not app.exception
    assert [error.value for error in app.error] == [f"You can only {action} models in your own list; this one is not "
                                                    "yours. Nothing was changed."]
    assert on_disk(models_dir) == before
    assert [owner.name for owner in store.ownership.owners_of(bobs.id)] == ["bob's"]


def test_a_forged_link_grants_nothing(models_dir, dense_files):
    bobs = save_copy(dense_files, [BOB], "bob's")
    before = on_disk(models_dir)
    app = run_board(ADA, query={"model": bobs.id, "owner": "ada", "actor": "teacher", "teacher": "1"})
    assert list(table(app)["Yours"]) == [False]
    select(app, bobs.id, [bobs.id])
    assert app.subheader[0].value == "bob's"  # looking at it is allowed
    keys = {widget.key for widget in app.button} | {widget.key for widget in app.toggle}
    assert not keys & {"board_manage_rename", "board_manage_delete", "teacher_reveal_test", "teacher_clear_board"}
    assert "only the students who have it, or the teacher, can rename or delete it" in texts(app)
    assert on_disk(models_dir) == before


def test_the_teacher_panel_grants_nothing_to_a_session_that_is_not_the_teachers(models_dir, dense_files):
    bobs = save_copy(dense_files, [BOB], "bob's")
    students.register("Bob")
    app = select(run_board(store.TEACHER), bobs.id, [bobs.id])
    before = on_disk(models_dir)
    app.session_state["actor"] = ADA  # the controls were drawn for the teacher; the session is now Ada's
    app.text_input(key="teacher_clear_confirm").set_value("delete every model")
    app.button(key="teacher_clear_board").click().run()
    assert [error.value for error in app.error] == ["Only the teacher can clear the board. Nothing was changed."]
    app = select(run_board(store.TEACHER), bobs.id, [bobs.id])
    app.session_state["actor"] = ADA
    app.button(key="board_manage_delete").click().run()
    assert "You can only delete models in your own list" in app.error[0].value
    app = run_board(store.TEACHER)
    app.session_state["actor"] = ADA
    app.toggle(key="teacher_reveal_test").set_value(True).run()
    assert [error.value for error in app.error] == ["Only the teacher can reveal or hide test accuracy. Nothing was "
                                                    "changed."]
    app = run_board(store.TEACHER)
    app.session_state["actor"] = ADA
    app.button(key="teacher_free_button").click().run()
    assert [error.value for error in app.error] == ["Only the teacher can free a student's name. Nothing was changed."]
    assert not app.exception
    assert on_disk(models_dir) == before and not students.test_revealed()
    assert [student["key"] for student in students.roster()] == ["bob"]


def through_the_box(case: str, max_chars: int):
    """(typed, kept, refusal) for a text box: like the browser, the box keeps only its first max_chars characters
    (a request forged past the box reaches the library, which refuses; tested below)."""
    typed, kept, refusal = BAD_NAMES[case]
    return (typed, typed[:max_chars], None) if len(typed) > max_chars else (typed, kept, refusal)


@pytest.mark.parametrize("case", list(BAD_NAMES))
def test_bad_model_names_are_cleaned_or_refused_through_the_rename_box(models_dir, dense_files, case):
    typed, kept, refusal = through_the_box(case, store.MAX_NAME_LENGTH)
    adas = save_copy(dense_files, [ADA], "ada's")
    app = select(run_board(ADA), adas.id, [adas.id])
    app.text_input(key="board_manage_name").set_value(typed)
    app.button(key="board_manage_rename").click().run()
    assert not app.exception
    [owner] = store.ownership.owners_of(adas.id)
    if kept is None:
        assert refusal in app.error[0].value and owner.name == "ada's"
        return
    assert owner.name == kept
    # Shown as text: escaped in Markdown (the page's text reads as typed), as is in the table.
    assert [plain(message.value) for message in app.success] == [f"Renamed: it is now “{kept}” in your list."]
    assert "**" not in app.success[0].value.replace("\\*", "") and "<script>" not in app.success[0].value
    assert list(table(app)["Model"]) == [kept] and plain(app.subheader[0].value) == kept


@pytest.mark.parametrize("case", list(BAD_NAMES))
def test_bad_student_names_are_cleaned_or_refused_through_the_name_box(models_dir, case):
    typed, kept, refusal = through_the_box(case, students.MAX_NAME_LENGTH)
    app = run_board()
    app.text_input(key="sidebar_name_text").set_value(typed)
    next(button for button in app.button if button.label == "Save my name").click().run()
    assert not app.exception
    if kept is None:
        assert refusal in app.error[0].value
        assert app.session_state["actor"] is None and students.roster() == []
        return
    assert app.session_state["actor"].display == kept == students.roster()[0]["display"]
    shown = next(markdown.value for markdown in app.markdown if markdown.value.startswith("**You:** "))
    assert "<script>" not in shown and plain(shown.removeprefix("**You:** ")) == kept


@pytest.mark.parametrize("case", list(BAD_NAMES))
def test_students_register_cleans_or_refuses_bad_names(models_dir, case):
    typed, kept, refusal = BAD_NAMES[case]
    if kept is None:
        with pytest.raises(ValueError, match=refusal):
            students.register(typed)
        assert students.roster() == []
    else:
        actor, token = students.register(typed)
        assert actor.display == kept and students.from_token(token) == actor


@pytest.mark.parametrize("case", list(BAD_NAMES))
def test_renaming_cleans_or_refuses_bad_names_past_the_box(models_dir, dense_files, case):
    typed, kept, refusal = BAD_NAMES[case]
    adas = save_copy(dense_files, [ADA], "ada's")
    if kept is None:
        with pytest.raises(ValueError, match=refusal):
            store.ownership.rename(adas.id, ADA, typed)
        kept = "ada's"
    else:
        assert store.ownership.rename(adas.id, ADA, typed) == kept
    assert [owner.name for owner in store.ownership.owners_of(adas.id)] == [kept]
