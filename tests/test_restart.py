"""A server killed in the middle of a class (SIGKILL): queued jobs are queued again, the running one is trained
again from the start (its claim in the shared queue is taken over: same settings and seed, the same model), and
nothing stored is lost or corrupted."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mnistlib import models, store, training
from mnistlib.store import index
from mnistlib.training import journal

SERVER = """
import sys, time
from mnistlib import models, store, training
trainer = training.Trainer(journal_jobs=True)
ada = store.Actor("ada", "Ada")
def request(epochs, seed, batch_size=32):
    return training.TrainRequest("mnist", models.ModelSpec(seed=seed, batch_size=batch_size), epochs, subset="small")
done = trainer.submit(request(1, seed=1), owner=ada)
done.wait(300)
running = trainer.submit(request(3, seed=2, batch_size=8), owner=ada)
queued = [trainer.submit(request(1, seed=3 + number), owner=ada) for number in range(2)]
while running.snapshot().epoch < 2:
    time.sleep(0.05)
print(done.id, done.snapshot().model_id, running.id, *[job.id for job in queued], flush=True)
time.sleep(600)
"""


@pytest.fixture
def store_folder(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    monkeypatch.setenv("MNISTLIB_MODELS_DIR", str(folder))
    monkeypatch.setenv("MNISTLIB_MAX_TRAININGS", "1")
    return folder


def kill_group(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(30)


def test_a_killed_server_keeps_its_queue_and_trains_the_running_one_again(store_folder):
    server = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
                              start_new_session=True)
    try:
        line = server.stdout.readline().split()
    finally:
        kill_group(server)
    done_id, model_id, running_id, *queued_ids = line
    time.sleep(1.5)  # the killed server's workers notice they are orphans and exit
    rows = {job_id: journal.load(job_id)["status"] for job_id in (done_id, running_id, *queued_ids)}
    assert rows == {done_id: "finished", running_id: "running", **dict.fromkeys(queued_ids, "queued")}

    trainer = training.Trainer(journal_jobs=True)  # the server starts again
    try:
        resumed = [trainer.job(job_id) for job_id in (running_id, *queued_ids)]
        states = [job.wait(300) for job in resumed]
        assert [state.status for state in states] == ["finished", "finished", "finished"]
        assert store.load_card(states[0].model_id).epochs_run == 3  # trained again, from the start to the end
        assert all(state.owners == ["Ada"] for state in states)
        earlier = trainer.job(done_id).snapshot()  # ?job= of a job that ended before the restart
        assert earlier.status == "finished" and earlier.model_id == model_id
    finally:
        trainer.shutdown()
    assert index.connect().execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    listed = {entry.id for entry in store.entries(viewer="ada", scope="mine")}
    assert listed == {model_id, *(state.model_id for state in states)}
    for model_id in listed:  # every stored model reads back whole
        assert store.load_card(model_id).epochs_run >= 1
        assert json.loads((store_folder / model_id / "owners.json").read_text())[0]["key"] == "ada"
        store.load_probabilities(model_id)


def test_a_second_live_server_leaves_the_first_ones_jobs_alone(store_folder):
    first = training.Trainer(journal_jobs=True)
    try:
        job = first.submit(training.TrainRequest("mnist", models.ModelSpec(seed=9), 1, subset="small"))
        second = training.Trainer(journal_jobs=True)  # cannot claim the store: recovers nothing
        try:
            assert second._server_lock is None
            assert job.wait(300).status == "finished"
        finally:
            second.shutdown()
    finally:
        first.shutdown()
