"""Training on a real Dask cluster (a LocalCluster on loopback, started and stopped here): live events, the model in
the server's store, Stop, two workers at once, a killed worker, no training worker, a lost or unreachable scheduler."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import distributed
import pytest

from mnistlib import models, store, training
from mnistlib.training import backends, dask_cluster

ROOT = Path(__file__).resolve().parents[1]
# With the dashboard off, a scheduler still serves /health on 8787, or on a free port (and warns) when another has it.
pytestmark = pytest.mark.filterwarnings("ignore:Port 8787 is already in use")


def start_cluster(workers: int) -> distributed.LocalCluster:
    """A plain scheduler and `workers` single-threaded worker processes (no custom resources), on loopback."""
    return distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                    dashboard_address=None)


@pytest.fixture(scope="module")
def cluster(bare_main):
    cluster = start_cluster(2)
    yield cluster
    cluster.close()


@pytest.fixture(scope="module")
def trainer(cluster):
    """The Trainer the environment asks for (MNISTLIB_SCHEDULER set), journal off, as the CLI makes it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MNISTLIB_SCHEDULER", cluster.scheduler_address)
        trainer = training.Trainer()
    assert isinstance(trainer.backend, dask_cluster.DaskCluster)
    yield trainer
    trainer.shutdown()


def request(epochs=2, **settings):
    return training.TrainRequest("mnist", models.ModelSpec(**settings), epochs, subset="small")


def wait_for(predicate, seconds=240):
    """Poll predicate until it is true (generous: the machine is shared and small)."""
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        time.sleep(0.05)


def workers_of(cluster) -> set[str]:
    return set(cluster.scheduler.workers)


def ran_on_the_cluster(cluster, prefix: str) -> list:
    """The scheduler's transitions of tasks whose key starts with prefix that ended in memory (ran to the end)."""
    return [entry for entry in cluster.scheduler.transition_log
            if str(entry.key).startswith(prefix) and entry.finish == "memory"]


def test_a_training_runs_on_a_worker_with_live_progress_and_lands_in_the_store(trainer, cluster):
    job = trainer.submit(request(epochs=3, seed=3))  # a seed no other test trains: never answered from the store
    live = []  # snapshots taken while it runs: the progress must arrive before the end, not with it
    while not job.ended:
        state = job.snapshot()
        if state.status == "running":
            live.append((state.epoch, len(state.progress)))
        time.sleep(0.02)
    state = job.snapshot()
    assert state.status == "finished", state.message
    assert live and live[0][0] >= 1 and live[-1][1] > 0
    assert any(address in state.where for address in workers_of(cluster)), state.where
    assert ran_on_the_cluster(cluster, f"mnistlib-train-{job.id}-")
    card = store.load_card(state.model_id)
    assert card.epochs_run == 3 and card.test_accuracy == pytest.approx(state.test_accuracy)
    assert store.load_probabilities(state.model_id).shape == (3, 200, 10)
    assert "2 workers, one training at a time on each" in trainer.backend.description


def test_the_cli_trains_on_the_cluster_and_stores_the_model(cluster, tmp_path, monkeypatch):
    environment = {**os.environ, "MNISTLIB_SCHEDULER": cluster.scheduler_address,
                   "MNISTLIB_MODELS_DIR": str(tmp_path)}
    before = len(ran_on_the_cluster(cluster, "mnistlib-train-"))
    result = subprocess.run([sys.executable, "-m", "mnistlib", "train", "--subset", "small", "--epochs", "2",
                             "--seed", "7"], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"on the Dask cluster at {cluster.scheduler_address}" in result.stdout
    assert "epoch 2/2" in result.stderr  # the live progress bar
    model_id = result.stdout.split("model id ")[1].split()[0]
    monkeypatch.setenv("MNISTLIB_MODELS_DIR", str(tmp_path))
    assert store.load_card(model_id).epochs_run == 2
    assert len(ran_on_the_cluster(cluster, "mnistlib-train-")) == before + 1


def test_stop_in_the_middle_keeps_the_last_finished_epoch(trainer):
    job = trainer.submit(request(epochs=200, batch_size=8, seed=11))
    wait_for(lambda: len(job.snapshot().history) >= 2)
    job.stop()
    state = job.wait(240)
    assert state.status == "stopped", state.message
    kept = len(state.history)
    assert kept >= 2 and state.model_id is not None
    assert store.load_card(state.model_id).epochs_run == kept
    assert store.load_probabilities(state.model_id).shape[0] == kept


def test_two_trainings_run_at_once_on_two_workers(trainer):
    jobs = [trainer.submit(request(epochs=200, batch_size=8, seed=seed)) for seed in (21, 22)]
    wait_for(lambda: all(job.snapshot().status == "running" for job in jobs))
    places = {job.snapshot().where for job in jobs}
    for job in jobs:
        job.stop()
    states = [job.wait(240) for job in jobs]
    assert [state.status for state in states] == ["stopped", "stopped"], [state.message for state in states]
    assert len(places) == 2, places


def test_a_worker_killed_mid_training_fails_the_job_and_the_next_training_works(trainer, cluster):
    job = trainer.submit(request(epochs=200, batch_size=8, seed=31))
    wait_for(lambda: job.snapshot().status == "running")
    address = next(address for address in workers_of(cluster) if address in job.snapshot().where)
    with distributed.Client(cluster.scheduler_address, set_as_default=False) as client:
        pid = client.run(os.getpid, workers=[address])[address]
    os.kill(pid, signal.SIGKILL)
    state = job.wait(240)
    assert state.status == "failed"
    assert "left the cluster" in state.message and "nothing was saved" in state.message, state.message
    after = trainer.submit(request(epochs=1, seed=32)).wait(240)
    assert after.status == "finished", after.message


def test_jobs_fail_with_a_message_when_no_worker_offers_training(tmp_path):
    with start_cluster(0) as empty:
        backend = dask_cluster.DaskCluster(empty.scheduler_address, no_worker_seconds=1)
        trainer = training.Trainer(backend=backend)
        try:
            state = trainer.submit(request(epochs=1, seed=41)).wait(120)
        finally:
            trainer.shutdown()
    assert state.status == "failed"
    assert state.message.startswith("No worker of the Dask cluster") and "--resources training=1" in state.message


def start_dask(*arguments: str) -> subprocess.Popen:
    """`dask scheduler` or `dask worker` as the README runs them, in their own process group."""
    return subprocess.Popen([str(Path(sys.executable).parent / "dask"), *arguments], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def kill(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=60)


def test_a_lost_scheduler_fails_the_running_training_with_a_message():
    address = f"tcp://127.0.0.1:{free_port()}"
    scheduler = start_dask("scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1], "--no-dashboard")
    worker = start_dask("worker", address, "--nworkers", "1", "--nthreads", "1", "--resources", "training=1",
                        "--no-dashboard", "--host", "127.0.0.1")
    try:
        trainer = training.Trainer(backend=dask_cluster.DaskCluster(address, connect_seconds=60))
        try:  # the worker was started with `--resources training=1`: that resource is honoured
            wait_for(lambda: "1 worker offering training" in trainer.backend.description)
            job = trainer.submit(request(epochs=200, batch_size=8, seed=51))
            wait_for(lambda: job.snapshot().status == "running")
            kill(scheduler)
            state = job.wait(120)
        finally:
            trainer.shutdown()
    finally:
        for process in (scheduler, worker):
            if process.poll() is None:
                kill(process)
    assert state.status == "failed"
    assert "connection to the Dask scheduler" in state.message and "nothing was saved" in state.message


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_scheduler_is_one_clear_message(tmp_path):
    address = f"tcp://127.0.0.1:{free_port()}"
    with pytest.raises(backends.ClusterUnavailable, match="cannot be reached") as raised:
        dask_cluster.DaskCluster(address, connect_seconds=1)
    assert address in str(raised.value) and "MNISTLIB_SCHEDULER" in str(raised.value)
    environment = {**os.environ, "MNISTLIB_SCHEDULER": address, "MNISTLIB_MODELS_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "mnistlib", "train", "--subset", "small", "--epochs", "1"],
                            cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: The Dask scheduler at {address} cannot be reached")
    assert "nothing was trained" in lines[0]
    assert not list(tmp_path.glob("*/card.json"))


def test_a_plain_cluster_is_used_as_it_is_one_training_per_worker_at_a_time():
    """A LocalCluster as people start it (no `training` resource, two threads per worker): trainings run on it, and
    a worker's own lock keeps a second training queued while the first trains."""
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as plain:
        trainer = training.Trainer(backend=dask_cluster.DaskCluster(plain.scheduler_address))
        try:
            assert "1 worker, one training at a time on each" in trainer.backend.description
            first, second = (trainer.submit(request(epochs=200, batch_size=8, seed=seed)) for seed in (61, 62))
            wait_for(lambda: "running" in (first.snapshot().status, second.snapshot().status))
            running, waiting = (first, second) if first.snapshot().status == "running" else (second, first)
            assert waiting.snapshot().status == "queued"  # both tasks are on the worker; one holds its lock
            running.stop()
            assert running.wait(240).status == "stopped"
            wait_for(lambda: waiting.snapshot().status == "running")
            waiting.stop()
            assert waiting.wait(240).status == "stopped"
            assert trainer.submit(request(epochs=1, seed=63)).wait(240).status == "finished"
        finally:
            trainer.shutdown()
