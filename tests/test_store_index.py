"""The store's SQLite index: fast listing, folders as the source of truth, damage and concurrency survived."""

import json
import multiprocessing
import os
import shutil

import numpy as np
import pytest

from mnistlib import store
from mnistlib.store import folders, index

ADA, BOB = store.Actor("ada", "Ada"), store.Actor("bob", "Bob")


def card_fields(name="net", dataset="mnist", key="k1", val=0.9):
    return {"name": name, "dataset": dataset, "subset": "small", "spec": {"architecture": "dense"}, "epochs_run": 1,
            "history": [{"epoch": 1, "loss": 1.0, "accuracy": 0.5, "val_loss": 0.5, "val_accuracy": val}],
            "test_loss": 0.9, "test_accuracy": 0.6, "training_seconds": 1.5, "test_size": 2, "request_key": key,
            "epochs_requested": 1, "parameters": 42}


def save(name="net", owners=(ADA,), **fields):
    return store.save(b"not read by these tests", card_fields(name, **fields), np.full((1, 2, 10), 0.1, np.float16),
                      owners=owners)


def test_entries_list_the_viewers_models_first_under_their_own_names(models_dir):
    mine = save("mine", owners=(ADA,))
    shared = save("shared", owners=(BOB, ADA))
    theirs = save("theirs", owners=(BOB,))
    store.ownership.rename(shared.id, ADA, "Ada's copy")
    listed = store.entries("mnist", viewer="ada")
    assert [entry.id for entry in listed] == [shared.id, mine.id, theirs.id]
    assert [entry.name for entry in listed] == ["Ada's copy", "mine", "theirs"]
    assert [entry.mine for entry in listed] == [True, True, False]
    assert {entry.id for entry in store.entries("mnist", viewer="ada", scope="mine")} == {mine.id, shared.id}
    assert [entry.id for entry in store.entries(viewer="ada", scope="owner:bob")] == [theirs.id, shared.id]  # newest first
    assert listed[0].owners == 2 and listed[0].parameters == 42 and listed[0].val_accuracy == 0.9
    assert store.entries("fashion_mnist", viewer="ada") == []


def test_a_shared_model_stays_until_its_last_owner_removes_it(models_dir):
    card = save(owners=(ADA, BOB))
    assert "1 other student" in store.ownership.remove(card.id, ADA)
    assert (models_dir / card.id).is_dir() and store.entries(viewer="ada", scope="mine") == []
    assert store.ownership.remove(card.id, BOB) == "Deleted."
    assert not (models_dir / card.id).exists() and store.entries() == []


def test_the_teacher_deletes_any_model_and_clears_the_board(models_dir):
    first, second = save("a", owners=(ADA,)), save("b", owners=(BOB,))
    with pytest.raises(store.PermissionDenied):
        store.ownership.clear_board(ADA)
    assert store.ownership.remove(first.id, store.TEACHER) == "Deleted for the whole class."
    assert [entry.id for entry in store.entries()] == [second.id]
    assert store.ownership.clear_board(store.TEACHER) == 1 and store.entries() == []


def test_folders_copied_in_or_removed_behind_its_back_are_noticed(models_dir, tmp_path):
    kept, copied = save("kept"), save("copied")
    backup = tmp_path / "backup"
    shutil.copytree(models_dir / copied.id, backup)
    shutil.rmtree(models_dir / copied.id)  # removed by hand
    index.refresh(index.connect(), force=True)
    assert [entry.id for entry in store.entries()] == [kept.id]
    shutil.copytree(backup, models_dir / copied.id)  # a teacher restores a backup
    assert {entry.id for entry in store.entries()} == {kept.id, copied.id}  # the folder's mtime changed


@pytest.mark.parametrize("damage", ["truncate", "random bytes", "delete"])
def test_a_damaged_or_missing_index_is_rebuilt_with_the_models_intact(models_dir, damage):
    cards = [save(f"net {number}", owners=(ADA,)) for number in range(3)]
    path = models_dir / index.INDEX_FILE
    index.connect().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    if damage == "truncate":
        with open(path, "r+b") as file:
            file.truncate(os.path.getsize(path) // 2)
    elif damage == "random bytes":
        path.write_bytes(np.random.default_rng(0).bytes(8192))
    else:
        path.unlink()
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    listed = store.entries(viewer="ada")
    assert sorted(entry.id for entry in listed) == sorted(card.id for card in cards)
    assert all(entry.mine for entry in listed)  # owners came back from the folders
    for card in cards:
        assert store.load_card(card.id) == card


def _save_many(directory: str, worker: int, count: int) -> None:
    os.environ["MNISTLIB_MODELS_DIR"] = directory
    for number in range(count):
        save(f"worker {worker} net {number}", owners=(store.Actor(f"s{worker}", f"S{worker}"),))


def test_concurrent_writers_in_several_processes_never_corrupt_it(models_dir, bare_main):
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_save_many, args=(str(models_dir), worker, 15)) for worker in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)
        assert process.exitcode == 0
    listed = store.entries()
    assert len(listed) == 60 == len(folders.model_ids())
    connection = index.connect()
    assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert connection.execute("SELECT COUNT(*) FROM owners").fetchone()[0] == 60


def test_generation_changes_with_every_write(models_dir):
    before = store.generation()
    card = save()
    after_save = store.generation()
    store.ownership.rename(card.id, ADA, "renamed")
    assert before < after_save < store.generation()


def test_a_check_that_finds_the_folders_as_indexed_is_not_a_change(models_dir):
    save()
    before = store.generation()
    (folders.root() / ".tmp-scratch").mkdir()  # the store folder's time changes, its models do not
    (folders.root() / ".tmp-scratch").rmdir()
    connection = index.connect()
    index.refresh(connection, force=True)  # the periodic full check
    assert store.generation() == before
    shutil.rmtree(folders.root() / save("other").id)  # a model gone by hand is a change
    index.refresh(connection, force=True)
    assert store.generation() > before


def test_a_save_a_killed_process_left_half_written_is_swept_and_one_in_progress_is_not(models_dir):
    kept = save()
    abandoned, in_progress = folders.root() / ".saving-abandoned", folders.root() / ".saving-now"
    for folder in (abandoned, in_progress):
        folder.mkdir()
        (folder / "card.json").write_text("{}")
    hours_ago = os.stat(abandoned).st_mtime - 2 * folders.ABANDONED_SAVE_SECONDS
    os.utime(abandoned, (hours_ago, hours_ago))
    index.refresh(index.connect(), force=True)  # the periodic full check
    assert not abandoned.exists() and in_progress.exists()
    assert [entry.id for entry in store.entries(None)] == [kept.id]


def test_find_trained_ignores_models_stopped_early(models_dir):
    finished = save(key="same")
    stopped = store.save(b"x", {**card_fields(key="other"), "epochs_requested": 5}, np.full((1, 2, 10), 0.1,
                         np.float16))
    assert store.find_trained("same") == finished.id
    assert store.find_trained("other") is None and stopped.stopped_early
    json.loads((models_dir / finished.id / "card.json").read_text())
