"""Two server processes on one store: an identical training runs once (the other process follows it and gets the
same model), and a SIGKILLed process's running and queued trainings are trained by the survivor."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from mnistlib import models, store, training
from mnistlib.training.shared_queue import SharedQueue

OTHER_SERVER = """
import sys, time
from mnistlib import models, store, training
trainer = training.Trainer(journal_jobs=True)
ada = store.Actor("ada", "Ada")
def request(epochs, seed, batch_size=32):
    return training.TrainRequest("mnist", models.ModelSpec(seed=seed, batch_size=batch_size), epochs, subset="small")
shared = trainer.submit(request(3, seed=11), owner=ada)
running = trainer.submit(request(4, seed=12, batch_size=8), owner=ada)
queued = trainer.submit(request(1, seed=13), owner=ada)
print(shared.id, running.id, queued.id, flush=True)
shared.wait(300)
print(shared.snapshot().model_id, flush=True)
while running.snapshot().epoch < 1:
    time.sleep(0.05)
print("running", flush=True)
time.sleep(600)
"""


def request(epochs, seed, batch_size=32):
    return training.TrainRequest("mnist", models.ModelSpec(seed=seed, batch_size=batch_size), epochs, subset="small")


@pytest.fixture
def store_folder(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    monkeypatch.setenv("MNISTLIB_MODELS_DIR", str(folder))
    monkeypatch.setenv("MNISTLIB_MAX_TRAININGS", "1")
    return folder


def owner_keys(folder: Path, model_id: str) -> list:
    return sorted(owner["key"] for owner in json.loads((folder / model_id / "owners.json").read_text()))


def test_two_processes_share_one_training_and_a_killed_ones_queue_is_trained_by_the_other(store_folder):
    other = subprocess.Popen([sys.executable, "-c", OTHER_SERVER], stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
                             start_new_session=True)
    trainer = None
    try:
        shared_id, running_id, queued_id = other.stdout.readline().split()
        trainer = training.Trainer(journal_jobs=True)
        bob = store.Actor("bob", "Bob")
        follower = trainer.submit(request(3, seed=11), owner=bob)
        claim = SharedQueue().get(follower.key)
        assert follower.id != shared_id and claim.job_id == shared_id  # it follows the other process's job
        followed = follower.wait(300)
        assert other.stdout.readline().split() == [followed.model_id]  # the model the other process stored
        assert followed.status == "finished" and len(followed.history) == 3
        assert followed.progress, "progress of the other process's training reached this one"
        assert sorted(followed.owners) == ["Ada", "Bob"]
        assert owner_keys(store_folder, followed.model_id) == ["ada", "bob"]
        assert [entry.id for entry in store.entries(scope="class")] == [followed.model_id]  # one training, one model

        assert other.stdout.readline().strip() == "running"
        os.killpg(other.pid, signal.SIGKILL)
        other.wait(30)
        taken = [trainer.job(job_id) for job_id in (running_id, queued_id)]  # its students' ?job= links
        assert all(job is not None for job in taken)
        states = [job.wait(600) for job in taken]
        assert [state.status for state in states] == ["finished", "finished"]
        assert [state.owners for state in states] == [["Ada"], ["Ada"]]
        for state, epochs in zip(states, (4, 1), strict=True):
            assert store.load_card(state.model_id).epochs_run == epochs
            assert owner_keys(store_folder, state.model_id) == ["ada"]
            assert SharedQueue().get(store.load_card(state.model_id).request_key).status == "finished"
    finally:
        if other.poll() is None:
            os.killpg(other.pid, signal.SIGKILL)
            other.wait(30)
        if trainer is not None:
            trainer.shutdown()
    assert len(store.entries(scope="class")) == 3  # nothing stored twice, nothing lost


def test_a_failed_training_releases_its_claim(store_folder, tmp_path, monkeypatch):
    monkeypatch.setenv("MNISTLIB_DATA_DIR", str(tmp_path / "no-data"))  # the full dataset is not there
    trainer = training.Trainer(journal_jobs=True)
    try:
        job = trainer.submit(training.TrainRequest("mnist", models.ModelSpec(), 1, subset="full"),
                             owner=store.Actor("ada", "Ada"))
        state = job.wait(300)
    finally:
        trainer.shutdown()
    assert state.status == "failed"
    claim = SharedQueue().get(job.key)
    assert claim.status == "failed" and claim.message == state.message
