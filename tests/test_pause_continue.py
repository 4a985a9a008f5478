"""Pause, Resume, Step and One more epoch / +N epochs, through real worker processes on this machine."""

import multiprocessing
import os
import time

import numpy as np
import pytest

from mnistlib import models, store, training
from mnistlib.training import continuing, events, job_controls, pausing, worker

ADA, BOB, CY = store.Actor("ada", "Ada"), store.Actor("bob", "Bob"), store.Actor("cy", "Cy")


@pytest.fixture(scope="module")
def trainer(tmp_path_factory):
    """A trainer with this module's own store (the server process writes it, the workers never do)."""
    folder = tmp_path_factory.mktemp("pause-store")
    previous = os.environ.get("MNISTLIB_MODELS_DIR")
    os.environ["MNISTLIB_MODELS_DIR"] = str(folder)
    trainer = training.Trainer()
    yield trainer
    workers = trainer.backend.processes()
    trainer.shutdown()
    os.environ["MNISTLIB_MODELS_DIR"] = previous or ""
    deadline = time.monotonic() + 60  # the workers end on their own after the shutdown: wait for it, then check
    while any(child in workers for child in multiprocessing.active_children()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(child in workers for child in multiprocessing.active_children())


def request(epochs=3, **settings):
    return training.TrainRequest("mnist", models.ModelSpec(**settings), epochs, subset="small")


def wait_for(predicate, seconds=120):
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        time.sleep(0.05)


def paused_and_still(job) -> training.JobState:
    """Wait until the job reports Paused; then no event may follow while it stays paused."""
    wait_for(lambda: job.snapshot().status == "paused")
    state, seen = job.snapshot(), job.events_applied
    assert not job.wait_for_events(seen + 1, timeout=1.5)  # nothing moves: no progress, no epoch
    assert job.snapshot().history == state.history and job.snapshot().progress == state.progress
    return state


def direct_history(job_request) -> list:
    """The same request trained in this process, never paused: the history it must give."""
    outcome = worker.train("direct", job_request.to_dict(), lambda event: None, lambda: False)
    assert outcome.kind == "Finished", outcome.message
    return outcome.history


def test_pause_holds_the_training_and_resume_finishes_it_as_if_never_paused(trainer):
    job_request = request(epochs=12, batch_size=8, seed=101)
    job = trainer.submit(job_request, owner=ADA)
    wait_for(lambda: job.snapshot().epoch >= 2)
    assert job.pause(ADA).startswith("Pausing")
    state = paused_and_still(job)
    assert state.control == "pause" and state.eta_seconds is None
    assert job.pause(ADA) == "It is already paused."
    assert job.resume(ADA).startswith("Resuming")
    final = job.wait(120)
    assert final.status == "finished", final.message
    assert [record["epoch"] for record in final.history] == list(range(1, 13))
    # The pause changed nothing the training computes: the same figures as a training never paused.
    assert final.history == direct_history(job_request)


def test_step_trains_to_the_end_of_the_epoch_then_pauses_and_stop_works_while_paused(trainer):
    job = trainer.submit(request(epochs=60, batch_size=8, seed=102), owner=ADA)
    wait_for(lambda: job.snapshot().epoch >= 2)
    job.pause(ADA)
    before = len(paused_and_still(job).history)
    assert job.step(ADA).startswith("Step")
    wait_for(lambda: len(job.snapshot().history) == before + 1 and job.snapshot().status == "paused")
    after = paused_and_still(job)
    assert len(after.history) == before + 1
    job.step(ADA)  # from an epoch boundary, Step is one whole epoch
    wait_for(lambda: len(job.snapshot().history) == before + 2 and job.snapshot().status == "paused")
    assert "last finished epoch" in job.stop(ADA)
    stopped = job.wait(60)
    assert stopped.status == "stopped" and len(stopped.history) == before + 2
    assert store.load_card(stopped.model_id).epochs_run == before + 2


def test_only_the_first_owner_or_the_teacher_may_pause_a_shared_training(trainer):
    job = trainer.submit(request(epochs=60, batch_size=8, seed=103), owner=ADA)
    assert trainer.submit(request(epochs=60, batch_size=8, seed=103), owner=BOB) is job
    wait_for(lambda: job.snapshot().status == "running")
    for student in (BOB, CY):  # joined it; never asked for it
        for action in (job.pause, job.resume, job.step):
            with pytest.raises(store.PermissionDenied, match="Only the student who started"):
                action(student)
    assert job.snapshot().control == "run" and job.snapshot().status == "running"
    assert job.pause(store.TEACHER).startswith("Pausing")
    paused_and_still(job)
    job.stop()
    assert job.wait(60).status == "stopped"


def test_pausing_an_ended_job_says_so_and_changes_nothing(trainer):
    job = trainer.submit(request(epochs=1, seed=104), owner=ADA)
    state = job.wait(120)
    assert state.status == "finished"
    listed = store.entries(viewer="ada", scope="mine")
    for action in (job.pause, job.resume, job.step):
        assert action(ADA) == "This training already finished."
    after = job.snapshot()
    assert (after.status, after.model_id, after.control, after.history) == ("finished", state.model_id, "run",
                                                                            state.history)
    assert store.entries(viewer="ada", scope="mine") == listed
    queued = trainer.submit(request(epochs=1, seed=105), owner=ADA)
    queued.stop()
    queued.wait(60)
    assert queued.pause(ADA) == "This training was already stopped."


def test_one_more_epoch_continues_the_weights_and_optimizer_and_keeps_the_full_history(trainer):
    parent = trainer.submit(request(epochs=3, seed=111), owner=ADA).wait(120)
    assert parent.status == "finished"
    more = continuing.continuation(parent.model_id, 1)
    assert more.key() != request(epochs=4, seed=111).key() != request(epochs=1, seed=111).key()
    job = trainer.submit(more, owner=BOB)  # Bob sees Ada's model on the class board: he may continue it
    assert job.snapshot().epochs == 4 and len(job.snapshot().history) == 3  # the parent's epochs first
    state = job.wait(120)
    assert state.status == "finished", state.message
    card, parent_card = store.load_card(state.model_id), store.load_card(parent.model_id)
    assert card.parent == parent.model_id and card.epochs_run == 4 and not card.stopped_early
    assert card.history[:3] == parent_card.history and card.history[3]["epoch"] == 4
    assert [owner.key for owner in store.ownership.owners_of(state.model_id)] == ["bob"]
    assert store.load_probabilities(state.model_id).shape == (4, 200, 10)
    np.testing.assert_array_equal(store.load_probabilities(state.model_id)[:3],
                                  store.load_probabilities(parent.model_id))
    child, ancestor = store.load_model(state.model_id), store.load_model(parent.model_id)
    steps = int(ancestor.optimizer.iterations.numpy()) // 3
    assert steps == 900 // 32 and int(child.optimizer.iterations.numpy()) == 4 * steps  # the optimizer went on
    # Three epochs and one more are exactly four epochs at once: same weights, same figures.
    straight = trainer.submit(request(epochs=4, seed=111)).wait(120)
    for ours, reference in zip(child.get_weights(), store.load_model(straight.model_id).get_weights(), strict=True):
        np.testing.assert_array_equal(ours, reference)
    assert card.history == store.load_card(straight.model_id).history
    again = trainer.submit(continuing.continuation(parent.model_id, 1), owner=CY)
    assert again.ended and again.snapshot().reused and again.snapshot().model_id == state.model_id


def test_plus_n_epochs_out_of_range_is_refused_in_one_sentence_and_nothing_is_stored(trainer):
    parent = trainer.submit(request(epochs=1, seed=112), owner=ADA).wait(120)
    listed = store.entries()
    for epochs in (0, 201, -3):
        with pytest.raises(ValueError, match=r"^Epochs must be a whole number from 1 to 200\.$"):
            continuing.continuation(parent.model_id, epochs)
    with pytest.raises(ValueError, match="is not a model id"):
        continuing.continuation("../../etc", 1)
    with pytest.raises(ValueError, match="cannot be read"):
        continuing.continuation("20000101-000000-abcdef", 1)
    assert store.entries() == listed


def test_the_pause_gate_obeys_pause_step_and_resume_words():
    word, emitted = [pausing.RUN], []
    gate = pausing.PauseGate("job", lambda: word[0], lambda: False, emitted.append)
    assert gate() is False and not emitted
    gate.progress(1, 5, 10)
    word[0] = pausing.step_word(1)  # Step while running: on to the end of this epoch
    assert gate() is False and not emitted
    gate.epoch_ended(1)

    def release_later():
        wait_for(lambda: emitted, 10)  # once it holds, Resume
        word[0] = pausing.RUN

    import threading

    threading.Thread(target=release_later, daemon=True).start()
    assert gate() is False  # held at the boundary, then let go
    assert emitted == [events.Paused("job", 1, 10, 10), events.Resumed("job")]
    assert gate.paused_seconds > 0
    stopping = pausing.PauseGate("job", lambda: pausing.PAUSE, lambda: bool(emitted), emitted.append)
    emitted.clear()
    assert stopping() is True  # Stop while paused ends the hold
    assert events.from_message(events.to_message(events.Paused("j", 2, 3, 4))) == events.Paused("j", 2, 3, 4)


def test_a_continuation_of_an_augmented_l2_run_equals_the_longer_run_bit_for_bit(trainer):
    """The lab's augmentation draws and L2 go on where the parent left them: 2 epochs + 1 more = 3 at once."""
    def lab_request(epochs):
        return training.TrainRequest("mnist", models.ModelSpec(seed=113), epochs, subset="small", l2=0.001,
                                     augment=True, train_images=600)

    parent = trainer.submit(lab_request(2), owner=ADA).wait(120)
    assert parent.status == "finished", parent.message
    more = continuing.continuation(parent.model_id, 1)
    assert (more.l2, more.augment, more.train_images) == (0.001, True, 600)
    state = trainer.submit(more, owner=ADA).wait(120)
    assert state.status == "finished", state.message
    straight = trainer.submit(lab_request(3), owner=ADA).wait(120)
    child, reference = store.load_model(state.model_id), store.load_model(straight.model_id)
    for ours, theirs in zip(child.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    assert store.load_card(state.model_id).history == store.load_card(straight.model_id).history


def test_a_cnns_continuation_draws_the_dropout_masks_on_bit_for_bit(trainer):
    """A .keras file keeps no dropout seed state: the worker puts back the one the parent's training reached."""
    parent = trainer.submit(request(epochs=2, architecture="cnn", seed=114), owner=ADA).wait(240)
    assert parent.status == "finished", parent.message
    state = trainer.submit(continuing.continuation(parent.model_id, 1), owner=ADA).wait(240)
    straight = trainer.submit(request(epochs=3, architecture="cnn", seed=114)).wait(240)
    for ours, reference in zip(store.load_model(state.model_id).get_weights(),
                               store.load_model(straight.model_id).get_weights(), strict=True):
        np.testing.assert_array_equal(ours, reference)
    assert store.load_card(state.model_id).history == store.load_card(straight.model_id).history


def test_a_training_another_server_process_runs_is_not_paused_from_here():
    """A job that follows another process's training: Pause, Resume and Step say so and send no word anywhere."""
    job = training.Job("followed", training.TrainRequest("mnist", models.ModelSpec(seed=7), 3, subset="small"), [ADA])
    words = []
    job._control = words.append
    job.apply(events.Started(job.id))
    job.trained_elsewhere = True
    for control in (job.pause, job.resume, job.step):
        assert control(ADA) == job_controls.TRAINED_ELSEWHERE
    assert words == [] and job.snapshot().control == "run"
    with pytest.raises(store.PermissionDenied):  # the rights come first
        job.pause(BOB)
    job.trained_elsewhere = False  # taken over: trained here
    assert job.pause(ADA) == job_controls.PAUSING and words == [pausing.PAUSE]
