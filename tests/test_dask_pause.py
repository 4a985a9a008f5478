"""Pause, Resume, Step and One more epoch on a real Dask cluster (a LocalCluster on loopback, started here)."""

import time

import distributed
import pytest

from mnistlib import models, store, training
from mnistlib.training import continuing, dask_cluster

pytestmark = pytest.mark.filterwarnings("ignore:Port 8787 is already in use")
ADA, BOB = store.Actor("ada", "Ada"), store.Actor("bob", "Bob")


@pytest.fixture(scope="module")
def trainer(bare_main, tmp_path_factory):
    """The Trainer the environment asks for (MNISTLIB_SCHEDULER set) on one single-threaded worker, its own store."""
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address=None)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MNISTLIB_SCHEDULER", cluster.scheduler_address)
        patch.setenv("MNISTLIB_MODELS_DIR", str(tmp_path_factory.mktemp("dask-pause-store")))
        trainer = training.Trainer()
        assert isinstance(trainer.backend, dask_cluster.DaskCluster)
        yield trainer
        trainer.shutdown()
    cluster.close()


def request(epochs=2, **settings):
    return training.TrainRequest("mnist", models.ModelSpec(**settings), epochs, subset="small")


def wait_for(predicate, seconds=240):
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        time.sleep(0.05)


def test_pause_step_and_resume_on_a_dask_worker(trainer):
    job = trainer.submit(request(epochs=40, batch_size=8, seed=201), owner=ADA)
    assert trainer.submit(request(epochs=40, batch_size=8, seed=201), owner=BOB) is job
    wait_for(lambda: job.snapshot().epoch >= 2)
    with pytest.raises(store.PermissionDenied):
        job.pause(BOB)  # Bob joined Ada's training
    job.pause(ADA)
    wait_for(lambda: job.snapshot().status == "paused")
    state, seen = job.snapshot(), job.events_applied
    assert "Dask worker" in state.where
    assert not job.wait_for_events(seen + 1, timeout=2.0)  # held on the worker: nothing moves
    job.step(ADA)
    wait_for(lambda: len(job.snapshot().history) == len(state.history) + 1 and job.snapshot().status == "paused")
    job.resume(ADA)
    final = job.wait(240)
    assert final.status == "finished", final.message
    assert [record["epoch"] for record in final.history] == list(range(1, 41))


def test_one_more_epoch_on_a_dask_worker_starts_from_the_parent(trainer):
    parent = trainer.submit(request(epochs=2, seed=202), owner=ADA).wait(240)
    assert parent.status == "finished", parent.message
    state = trainer.submit(continuing.continuation(parent.model_id, 2), owner=ADA).wait(240)
    assert state.status == "finished", state.message
    card = store.load_card(state.model_id)
    assert card.parent == parent.model_id and [record["epoch"] for record in card.history] == [1, 2, 3, 4]
    assert card.history[:2] == store.load_card(parent.model_id).history
    iterations = int(store.load_model(state.model_id).optimizer.iterations.numpy())
    assert iterations == 2 * int(store.load_model(parent.model_id).optimizer.iterations.numpy())


def test_stop_while_paused_on_a_dask_worker_keeps_the_last_finished_epoch(trainer):
    job = trainer.submit(request(epochs=60, batch_size=8, seed=203), owner=ADA)
    wait_for(lambda: job.snapshot().epoch >= 2)
    job.pause(ADA)
    wait_for(lambda: job.snapshot().status == "paused")
    kept = len(job.snapshot().history)
    job.stop(ADA)
    state = job.wait(120)
    assert state.status == "stopped" and len(state.history) == kept >= 1
    assert store.load_card(state.model_id).epochs_run == kept


def test_let_the_queue_go_on_then_resume_on_a_dask_worker(trainer):
    job = trainer.submit(request(epochs=30, batch_size=8, seed=204), owner=ADA)
    wait_for(lambda: job.snapshot().epoch >= 2)
    job.pause(ADA)
    wait_for(lambda: job.snapshot().status == "paused")
    job.let_queue_go_on(ADA)
    wait_for(lambda: job.snapshot().control == "released")
    kept = job.snapshot().released_model
    assert store.load_card(kept).epochs_run == len(job.snapshot().history)
    assert job.resume(ADA).startswith("Resuming: the remaining")
    final = job.wait(240)
    assert final.status == "finished", final.message
    card = store.load_card(final.model_id)
    assert card.parent == kept and [record["epoch"] for record in card.history] == list(range(1, 31))
    straight = trainer.submit(request(epochs=30, batch_size=8, seed=204)).wait(240)
    assert card.history == store.load_card(straight.model_id).history  # as if it had never let go
