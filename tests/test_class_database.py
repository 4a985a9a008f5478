"""The class in the store's database: a students.json of the old format is imported once, no JSON file is written
any more, two processes claiming one name give it one owner, and a damaged database's class rows are salvaged."""

import multiprocessing
import shutil
import sqlite3
from pathlib import Path

import pytest

from mnistlib import students
from mnistlib.store import TEACHER, class_tables, index

FIXTURE = Path(__file__).parent / "fixtures" / "students-2026-12-03.json"
# Written by the code of 2026-12-03 (register "Ada Lovelace" and "Émile <b>", a teacher sign-in, reveal test); the
# teacher session's expiry was moved to 2100 so the copy stays valid. The tokens those browsers kept:
ADA_TOKEN = "HrQq8gBSDOPO6cE-TnIODIO1Gwm8finantdaXpXQjRQ"
EMILE_TOKEN = "wA-2XvCL4uJ5yFluAhH2KiNGcytwNRN7xCNehRZAb18"
TEACHER_TOKEN = "wtISWgi-Ls19lh-sskBEePGU9A31WLHgyMhtL9m-XUA"


def test_an_old_students_json_is_imported_once_with_every_name_session_and_setting(models_dir, monkeypatch):
    monkeypatch.setenv("MNISTLIB_TEACHER_PASSWORD", "pw")
    shutil.copy(FIXTURE, models_dir / "students.json")
    assert [student["display"] for student in students.roster()] == ["Ada Lovelace", "Émile <b>"]
    assert students.from_token(ADA_TOKEN).display == "Ada Lovelace"
    assert students.from_token(EMILE_TOKEN).key == "émile <b>"
    assert students.teacher_from_token(TEACHER_TOKEN) is TEACHER
    assert students.test_revealed() is True
    assert not (models_dir / "students.json").exists()
    assert (models_dir / "students.json.migrated").exists()
    with pytest.raises(students.NameTaken):  # the imported names are claimed
        students.register("Ada Lovelace")


def test_no_json_file_keeps_the_class(models_dir, monkeypatch):
    monkeypatch.setenv("MNISTLIB_TEACHER_PASSWORD", "pw")
    actor, token = students.register("Bob")
    session = students.teacher_sign_in("pw")
    students.reveal_test(TEACHER, True)
    students.free_name("bob", TEACHER)
    students.teacher_sign_out(session)
    assert students.from_token(token) is None and students.teacher_from_token(session) is None
    assert students.test_revealed() is True
    assert list(models_dir.glob("*.json")) == []


def _claim(folder: str, start, results) -> None:
    import os

    os.environ["MNISTLIB_MODELS_DIR"] = folder
    start.wait()
    try:
        students.register("Same Name")
        results.put("claimed")
    except students.NameTaken:
        results.put("taken")


def test_two_processes_claiming_one_name_give_it_one_owner(models_dir):
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(2), context.Queue()
    workers = [context.Process(target=_claim, args=(str(models_dir), start, results)) for _ in range(2)]
    for worker in workers:
        worker.start()
    outcomes = sorted(results.get(timeout=120) for _ in workers)
    for worker in workers:
        worker.join(timeout=60)
    assert outcomes == ["claimed", "taken"]
    assert [student["display"] for student in students.roster()] == ["Same Name"]


def test_a_damaged_databases_class_rows_are_salvaged(models_dir, tmp_path):
    students.register("Cy")
    copy = tmp_path / "damaged.sqlite"
    index.run(lambda connection: connection.execute(f"VACUUM INTO '{copy}'"))
    fresh = sqlite3.connect(tmp_path / "new.sqlite", isolation_level=None)
    class_tables.create(fresh)
    class_tables.salvage(fresh, copy)
    assert fresh.execute("SELECT display FROM students").fetchall() == [("Cy",)]
    class_tables.salvage(fresh, tmp_path / "missing.sqlite")  # nothing to salvage: nothing happens


def test_an_unreadable_students_json_is_left_alone_and_the_class_starts(models_dir):
    (models_dir / "students.json").write_text("{not json")
    assert students.roster() == []
    assert (models_dir / "students.json").read_text() == "{not json"
