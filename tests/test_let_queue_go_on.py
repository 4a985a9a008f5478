"""Let the queue go on: a paused training frees its worker for the queue, and Resume queues the rest of it, through
real worker processes on this machine (one training slot, so the queue is real)."""

import os

import numpy as np
import pytest

from mnistlib import models, store, training
from mnistlib.training import events, job_controls, pausing
from tests.test_pause_continue import ADA, BOB, paused_and_still, wait_for


@pytest.fixture(scope="module")
def trainer(tmp_path_factory):
    """A trainer with one training slot and this module's own store."""
    folder = tmp_path_factory.mktemp("release-store")
    previous = {name: os.environ.get(name) for name in ("MNISTLIB_MODELS_DIR", "MNISTLIB_MAX_TRAININGS")}
    os.environ.update(MNISTLIB_MODELS_DIR=str(folder), MNISTLIB_MAX_TRAININGS="1")
    trainer = training.Trainer()
    yield trainer
    trainer.shutdown()
    for name, value in previous.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def request(epochs, **settings):
    return training.TrainRequest("mnist", models.ModelSpec(**settings), epochs, subset="small")


def test_a_paused_training_lets_the_queue_go_on_and_resume_finishes_it_bit_for_bit(trainer):
    job = trainer.submit(request(30, batch_size=8, seed=301), owner=ADA)
    wait_for(lambda: job.snapshot().epoch >= 2)
    assert job.let_queue_go_on(ADA) == job_controls.PAUSE_FIRST  # only a paused training may
    job.pause(ADA)
    paused_and_still(job)
    waiting = trainer.submit(request(1, seed=302), owner=BOB)
    assert waiting.snapshot().status == "queued"  # the paused training keeps the only slot
    with pytest.raises(store.PermissionDenied, match="Only the student who started"):
        job.let_queue_go_on(BOB)
    assert job.let_queue_go_on(ADA) == job_controls.RELEASING
    wait_for(lambda: job.snapshot().control == "released")
    state = job.snapshot()
    kept = len(state.history)
    assert state.status == "paused" and state.released_model is not None
    card = store.load_card(state.released_model)  # the boundary's model, stored as a stopped one, in Ada's list
    assert card.epochs_run == kept and card.history == state.history and card.epochs_requested == 30
    assert [owner.key for owner in store.ownership.owners_of(state.released_model)] == ["ada"]
    assert store.find_trained(job.key) is None  # a stopped model: never given for the whole request
    assert waiting.wait(120).status == "finished"  # the queue went on meanwhile
    assert trainer.queue_position(waiting) == 0
    assert job.step(ADA) == job_controls.RELEASED_NO_STEP and job.pause(ADA) == "It is already paused."
    assert job.let_queue_go_on(ADA) == job_controls.RELEASED_ALREADY
    assert job.resume(ADA) == f"Resuming: the remaining {30 - kept} epochs wait for the next free worker."
    final = job.wait(240)
    assert final.status == "finished", final.message
    assert [record["epoch"] for record in final.history] == list(range(1, 31))  # one training, its whole history
    result = store.load_card(final.model_id)
    assert result.parent == state.released_model and result.epochs_run == 30 and result.name == card.name
    assert store.load_probabilities(final.model_id).shape == (30, 200, 10)
    # Let go at an epoch boundary and then the rest: the very model of a training never paused.
    straight = trainer.submit(request(30, batch_size=8, seed=301))
    assert straight is not job
    straight = straight.wait(240)
    for ours, reference in zip(store.load_model(final.model_id).get_weights(),
                               store.load_model(straight.model_id).get_weights(), strict=True):
        np.testing.assert_array_equal(ours, reference)
    assert result.history == store.load_card(straight.model_id).history


def test_stop_while_released_keeps_its_stored_model_and_an_ended_job_says_so(trainer):
    job = trainer.submit(request(60, batch_size=8, seed=303), owner=ADA)
    wait_for(lambda: job.snapshot().epoch >= 2)
    job.pause(ADA)
    job.let_queue_go_on(ADA)  # while pausing: on to the epoch boundary, then its worker goes
    wait_for(lambda: job.snapshot().control == "released")
    kept = job.snapshot().released_model
    assert job.stop(ADA) == "Stopping: the model as of the last finished epoch is kept."
    state = job.wait(10)
    assert state.status == "stopped" and state.model_id == kept
    assert store.load_card(kept).epochs_run == len(state.history)
    for action in (job.let_queue_go_on, job.resume, job.pause):
        assert action(ADA) == "This training was already stopped."


def test_a_finished_training_says_so_and_early_stopping_keeps_its_worker(trainer):
    job = trainer.submit(request(1, seed=305), owner=ADA)
    assert job.wait(120).status == "finished"
    assert job.let_queue_go_on(ADA) == "This training already finished."
    patient = trainer.submit(training.TrainRequest("mnist", models.ModelSpec(batch_size=8, seed=306), 60,
                                                   subset="small", early_stopping=50), owner=ADA)
    wait_for(lambda: patient.snapshot().epoch >= 1)
    patient.pause(ADA)
    assert patient.let_queue_go_on(ADA).startswith("Early stopping counts epochs")
    assert patient.snapshot().control == "pause"
    patient.stop()
    assert patient.wait(60).status == "stopped"


def test_the_gate_lets_go_only_at_an_epoch_boundary():
    word, emitted = [pausing.RELEASE], []
    gate = pausing.PauseGate("job", lambda: word[0], lambda: False, emitted.append)
    assert gate() is True  # before the first epoch: a boundary, nothing to finish
    gate = pausing.PauseGate("job", lambda: word[0], lambda: False, emitted.append)
    word[0] = pausing.RUN
    assert gate() is False
    gate.progress(1, 4, 10)
    word[0] = pausing.RELEASE
    assert gate() is False and gate() is False  # mid-epoch: trains on to its end
    gate.epoch_ended(1)
    assert gate() is True and not emitted
    import threading

    def release_when_held():
        wait_for(lambda: emitted, 10)
        word[0] = pausing.RELEASE

    held = pausing.PauseGate("job", lambda: word[0], lambda: False, emitted.append)
    word[0] = pausing.PAUSE
    threading.Thread(target=release_when_held, daemon=True).start()
    assert held() is True  # held at a boundary (before epoch 1): it lets go there
    assert emitted == [events.Paused("job", 0, 0, 0)]
    emitted.clear()
    word[0] = pausing.RUN
    held = pausing.PauseGate("job", lambda: word[0], lambda: False, emitted.append)
    assert held() is False
    held.progress(1, 4, 10)
    word[0] = pausing.PAUSE  # a pause in the middle of epoch 1
    threading.Thread(target=release_when_held, daemon=True).start()
    assert held() is False  # it trains on to the end of the epoch first
    assert emitted == [events.Paused("job", 1, 4, 10), events.Resumed("job")]
    held.epoch_ended(1)
    assert held() is True
