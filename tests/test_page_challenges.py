"""The teacher's challenges on the class board through AppTest: set one with the form (bad values refused with their
sentence), see every model's verdict, end it (it stays readable), and the results CSV; students get none of it."""

import pytest

from mnistlib import challenges, gradebook, store
from tests.page_runs import run_page, texts
from tests.test_page_board import read_files, save_copy


@pytest.fixture(autouse=True)
def small_subset(monkeypatch):
    monkeypatch.setenv("MNISTLIB_SUBSET", "small")


@pytest.fixture(scope="session")
def dense_files(stored_mnist_model):
    """A real Dense model trained 3 epochs on MNIST's small subset (its files, to be stored again per test)."""
    return read_files(stored_mnist_model)


def run_board(actor, session=None):
    return run_page("app_pages/board.py", None, {"actor": actor, **(session or {})})


def submit(app):
    """Press the form's "Set the challenge" button and run the page again."""
    next(button for button in app.button if button.label == "Set the challenge").click().run()
    assert not app.exception, app.exception
    return app


def test_the_teacher_sets_a_challenge_with_the_form_and_a_bad_value_is_refused(models_dir):
    app = run_board(store.TEACHER)
    app.text_input(key="challenge_title").set_value("")
    submit(app)
    assert "title" in " ".join(error.value for error in app.error).lower()
    assert challenges.all_challenges() == []
    app.text_input(key="challenge_title").set_value("**Bold** 95% in 3 epochs")
    app.number_input(key="challenge_target").set_value(95.0)
    app.number_input(key="challenge_max_epochs").set_value(3)
    submit(app)
    active = challenges.active("mnist")
    assert active is not None and active.title == "**Bold** 95% in 3 epochs"
    assert active.min_validation_accuracy == pytest.approx(0.95) and active.max_epochs == 3
    assert "\\*\\*Bold\\*\\* 95% in 3 epochs" in texts(app)  # typed markup shown as text
    submit(app)  # a second active challenge on the same dataset is refused
    assert "still active" in " ".join(error.value for error in app.error)
    assert len(challenges.all_challenges()) == 1


def test_every_model_is_judged_and_an_ended_challenge_stays_readable(models_dir, dense_files):
    ada = store.Actor("ada", "Ada")
    card = save_copy(dense_files, [ada], "ada's digits")
    challenge = challenges.set_challenge(store.TEACHER, title="Any model", dataset="mnist",
                                         min_validation_accuracy=0.01, max_epochs=1)
    app = run_board(store.TEACHER, {"board_dataset": "mnist"})
    verdicts = next(frame.value for frame in app.dataframe if "Verdict" in frame.value.columns)
    assert list(verdicts["Student"]) == ["Ada"] and list(verdicts["Model"]) == [card.name]
    expected = "over a limit" if card.epochs_run > 1 else "met"
    assert list(verdicts["Verdict"]) == [expected]
    next(button for button in app.button if button.key == f"challenge_end_{challenge.id}").click().run()
    assert not app.exception, app.exception
    assert challenges.active("mnist") is None
    assert "Challenge ended\\: Any model" in texts(app)
    assert f"{int(expected == 'met')} student\\(s\\) met it" in texts(app)  # the ended one, still readable
    assert [button for button in app.get("download_button") if button.proto.label == "Download results (CSV)"]
    assert gradebook.csv_text().splitlines()[0] == ",".join(gradebook.COLUMNS)


def test_a_student_sees_no_challenge_controls(models_dir):
    app = run_board(store.Actor("bob", "Bob"))
    assert not [widget for widget in app.text_input if widget.key == "challenge_title"]
    assert not [button for button in app.button if button.label == "Set the challenge"]
    with pytest.raises(store.PermissionDenied):  # and crafting the call is refused by the library
        challenges.set_challenge(store.Actor("bob", "Bob"), title="Mine", dataset="mnist", min_validation_accuracy=0.5)


def test_home_shows_how_to_join_with_a_qr_code_and_the_teachers_class_name(models_dir):
    from mnistlib import join, students

    students.set_class_name(store.TEACHER, "Year 10 <b>")
    app = run_page("app_pages/home.py")
    addresses = join.addresses("", 8501)
    assert "Join this class" in [header.value for header in app.subheader]
    assert "Class: Year 10 <b>" in texts(app).replace("\\", "")
    assert [block.value for block in app.code] == addresses  # every address of this machine, as text
    assert app.get("image") and addresses  # the QR code of the first
    with pytest.raises(store.PermissionDenied):
        students.set_class_name(store.Actor("bob", "Bob"), "Mine")


def test_the_join_addresses_and_their_qr_code():
    from mnistlib import join

    assert join.addresses("127.0.0.1", 8501) == [] and join.addresses("localhost", 80) == []
    assert join.addresses("10.1.2.3", 8502, https=True) == ["https://10.1.2.3:8502"]
    assert all(address.endswith(":8501") for address in join.addresses("0.0.0.0", 8501))
    with pytest.raises(ValueError):
        join.addresses("", 0)
    assert join.qr_png("http://10.1.2.3:8501").startswith(b"\x89PNG")


def test_the_teacher_downloads_and_deletes_one_students_data(models_dir, dense_files):
    import io
    import json
    import zipfile

    from mnistlib import student_data, students

    ada, _ = students.register("Ada")
    bob, _ = students.register("Bob")
    only_adas = save_copy(dense_files, [ada], "ada's own")
    shared = save_copy(dense_files, [ada, bob], "shared")
    archive = zipfile.ZipFile(io.BytesIO(student_data.export_zip(store.TEACHER, "ada")))
    listed = json.loads(archive.read("student.json"))
    assert listed["name"] == "Ada" and {model["id"] for model in listed["models"]} == {only_adas.id, shared.id}
    assert f"models/{only_adas.id}/model.keras" in archive.namelist()
    with pytest.raises(store.PermissionDenied):
        student_data.export_zip(bob, "ada")
    with pytest.raises(store.PermissionDenied):
        student_data.delete(bob, "ada")
    app = run_board(store.TEACHER)
    app.selectbox(key="teacher_free_name").set_value("ada").run()
    app.button(key="teacher_delete_student").click().run()  # not confirmed: nothing happens
    assert [student["key"] for student in students.roster()] == ["ada", "bob"]
    app.checkbox(key="teacher_delete_confirm").check().run()
    app.button(key="teacher_delete_student").click().run()
    assert not app.exception, app.exception
    assert [student["key"] for student in students.roster()] == ["bob"]
    remaining = {entry.id for entry in store.entries()}
    assert remaining == {shared.id}  # Ada's own model went; the shared one stays with Bob
    assert [owner.key for owner in store.listing.owners(shared.id)] == ["bob"]
    assert "Deleted Ada" in texts(app)
