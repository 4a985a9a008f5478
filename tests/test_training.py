"""Training through real worker processes: events in order, sharing, stop, failures as events, nothing left behind."""

import multiprocessing
import os
import signal
import time

import numpy as np
import pytest

from mnistlib import datasets, models, store, training
from mnistlib.training import events

ADA, BOB, CY = store.Actor("ada", "Ada"), store.Actor("bob", "Bob"), store.Actor("cy", "Cy")


@pytest.fixture(scope="module")
def trainer(tmp_path_factory):
    """A trainer whose store is this module's (the server process writes the store, the workers never do)."""
    folder = tmp_path_factory.mktemp("training-store")
    previous = os.environ.get("MNISTLIB_MODELS_DIR")
    os.environ["MNISTLIB_MODELS_DIR"] = str(folder)
    trainer = training.Trainer()
    yield trainer
    workers = trainer.backend.processes()
    trainer.shutdown()
    os.environ["MNISTLIB_MODELS_DIR"] = previous or ""
    assert workers and not any(worker.is_alive() for worker in workers)
    assert not any(child in workers for child in multiprocessing.active_children())  # reaped: no zombies


def request(epochs=3, **settings):
    return training.TrainRequest("mnist", models.ModelSpec(**settings), epochs, subset="small")


def wait_for(predicate, seconds=120):
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        time.sleep(0.05)


def test_a_short_training_streams_events_in_order_and_stores_the_model(trainer):
    seen = []
    job = trainer.submit(request(epochs=4, seed=11), owner=ADA)
    while job.snapshot().status not in training.ENDED:
        seen.append(job.snapshot().status)
        time.sleep(0.02)
    state = job.snapshot()
    assert state.status == "finished", state.message
    order = [status for index, status in enumerate(seen) if index == 0 or seen[index - 1] != status]
    assert order[0] == "queued" and order[-1] == "running"
    assert [record["epoch"] for record in state.history] == [1, 2, 3, 4]
    assert all(point["loss"] > 0 for point in state.progress)
    assert state.progress[-1]["step"] == 4  # every event reached the job before its end (the last batch's too)
    assert state.test_accuracy > 0.5  # chance is 0.1; the small subset gives about 0.8 here
    assert "this machine" in state.where
    card = store.load_card(state.model_id)
    assert card.epochs_run == 4 and card.test_accuracy == pytest.approx(state.test_accuracy)
    assert card.trained_by == "Ada" and card.request_key == job.key and card.parameters == 101_770
    assert store.load_probabilities(state.model_id).shape == (4, 200, 10)
    assert [entry.id for entry in store.entries(viewer="ada", scope="mine")] == [state.model_id]
    epochs, points = store.load_hidden_map(state.model_id)  # the hidden-space map, epoch by epoch
    assert list(epochs) == [1, 2, 3, 4] and points.shape == (4, 200, 2)
    from mnistlib import insight

    model, data = store.load_model(state.model_id), datasets.load("mnist", subset="small")
    expected = insight.project_2d(insight.hidden_activations(model, data.x_test))
    np.testing.assert_allclose(points[-1], expected, atol=0.05 * np.abs(expected).max())


def test_identical_requests_share_one_training_and_a_stored_one_opens_at_once(trainer):
    first = trainer.submit(request(epochs=2, seed=21), owner=ADA)
    second = trainer.submit(request(epochs=2, seed=21), owner=BOB)
    assert second is first and first.snapshot().owners == ["Ada", "Bob"]
    other = trainer.submit(request(epochs=2, seed=22), owner=BOB)  # a different seed trains again
    assert other is not first
    state = first.wait(120)
    assert state.status == "finished" and not state.reused
    assert [owner.key for owner in store.ownership.owners_of(state.model_id)] == ["ada", "bob"]
    later = trainer.submit(request(epochs=2, seed=21), owner=CY)
    assert later is not first and later.ended
    reused = later.snapshot()
    assert reused.reused and reused.model_id == state.model_id and "Change the seed" in reused.message
    assert {owner.key for owner in store.ownership.owners_of(state.model_id)} == {"ada", "bob", "cy"}
    assert other.wait(120).model_id != state.model_id


def test_the_stored_model_gives_the_cards_accuracy_with_plain_keras(trainer):
    state = trainer.submit(request(epochs=2, seed=31)).wait(120)
    model = store.load_model(state.model_id)
    data = datasets.load("mnist", subset="small")
    predicted = model.predict(data.x_test / 255.0, verbose=0).argmax(axis=1)
    assert np.mean(predicted == data.y_test) == pytest.approx(store.load_card(state.model_id).test_accuracy)


def test_stop_mid_training_keeps_the_last_finished_epoch(trainer):
    job = trainer.submit(request(epochs=200, batch_size=8, seed=41), owner=ADA)
    wait_for(lambda: job.snapshot().epoch >= 3)
    with pytest.raises(store.PermissionDenied):
        job.stop(BOB)  # not Bob's
    assert "last finished epoch" in job.stop(ADA)
    state = job.wait(60)
    assert state.status == "stopped"
    kept = len(state.history)
    assert kept >= 2 and state.model_id is not None
    card = store.load_card(state.model_id)
    assert card.epochs_run == kept and card.stopped_early
    assert store.load_probabilities(state.model_id).shape[0] == kept
    assert store.find_trained(job.key) is None  # a stopped model is never handed out as "exactly this"


def test_one_student_stopping_a_shared_training_only_leaves_it(trainer):
    job = trainer.submit(request(epochs=3, seed=51), owner=ADA)
    assert trainer.submit(request(epochs=3, seed=51), owner=BOB) is job
    assert "goes on" in job.stop(BOB)
    state = job.wait(120)
    assert state.status == "finished" and state.owners == ["Ada"] and state.left_keys == ["bob"]
    assert [owner.key for owner in store.ownership.owners_of(state.model_id)] == ["ada"]


def test_jobs_wait_in_the_queue_and_none_is_lost(trainer):
    jobs = [trainer.submit(request(epochs=1, seed=60 + number)) for number in range(3)]
    assert [trainer.queue_position(job) for job in jobs][1:] == [1, 2]
    states = [job.wait(120) for job in jobs]
    assert [state.status for state in states] == ["finished"] * 3
    assert len({state.model_id for state in states}) == 3


def test_stop_while_queued_drops_the_job(trainer):
    running = trainer.submit(request(epochs=200, batch_size=8, seed=71))
    queued = trainer.submit(request(epochs=2, seed=72))
    queued.stop()
    assert queued.wait(30).status == "stopped" and queued.snapshot().model_id is None
    running.stop()
    running.wait(60)


def test_a_nan_loss_fails_with_advice(trainer):
    job = trainer.submit(request(epochs=3, optimizer="sgd", learning_rate=10.0, hidden_units=512, hidden_layers=3))
    state = job.wait(120)
    assert state.status == "failed"
    assert "Lower the learning rate" in state.message


def test_a_crashed_worker_arrives_as_a_failed_event(trainer):
    job = trainer.submit(request(epochs=200, batch_size=8, seed=81))
    wait_for(lambda: job.snapshot().status == "running")
    for process in trainer.backend.processes():
        os.kill(process.pid, signal.SIGKILL)
    state = job.wait(60)
    assert state.status == "failed" and "stopped unexpectedly" in state.message
    after = trainer.submit(request(epochs=1, seed=82)).wait(120)  # the trainer recovers with a new pool
    assert after.status == "finished"


def test_an_exception_in_the_worker_arrives_as_a_failed_event(tmp_path, monkeypatch):
    monkeypatch.setenv("MNISTLIB_DATA_DIR", str(tmp_path))  # no data here: loading fails inside the worker
    monkeypatch.setenv("MNISTLIB_MODELS_DIR", str(tmp_path / "models"))
    trainer = training.Trainer()
    try:
        job = trainer.submit(training.TrainRequest("fashion_mnist", models.ModelSpec(), 1, subset="full"))
        state = job.wait(120)
        assert state.status == "failed" and "has not been fetched yet" in state.message
    finally:
        trainer.shutdown()


def test_requests_are_validated_before_they_reach_a_worker():
    with pytest.raises(ValueError, match="Epochs must be"):
        request(epochs=0)
    with pytest.raises(ValueError, match="Unknown dataset"):
        training.TrainRequest("cifar", models.ModelSpec(), 1)


def test_request_keys_tell_identical_trainings_apart():
    assert request(seed=1).key() == request(seed=1).key()
    assert len({request(seed=1).key(), request(seed=2).key(), request(epochs=4, seed=1).key(),
                training.TrainRequest("mnist", models.ModelSpec(seed=1), 3, subset="full").key()}) == 4
    named = training.TrainRequest("mnist", models.ModelSpec(seed=1), 3, subset="small", name="mine")
    assert named.key() == request(seed=1).key()  # the name is not part of the training


def test_events_round_trip_through_plain_messages():
    progress = events.Progress("job", 1, 5, 10, 100, 0.5, 0.9, 1.25)
    assert events.from_message(events.to_message(progress)) == progress
    with pytest.raises(ValueError):
        events.from_message({"kind": "Exploit", "job": "x"})


def test_the_learning_rate_finder_runs_as_a_job_with_progress_and_a_curve(trainer):
    finder = training.TrainRequest("mnist", models.ModelSpec(seed=91), 1, subset="small", kind="find_learning_rate")
    assert finder.key() != request(epochs=1, seed=91).key()
    job = trainer.submit(finder, owner=ADA)
    state = job.wait(120)
    assert state.status == "finished" and state.model_id is None
    from mnistlib import lr_finder

    curve = lr_finder.Curve.from_dict(state.result)
    assert len(state.rate_points) == len(curve.losses) > 10
    assert np.all(np.diff(curve.learning_rates) > 0) and curve.learning_rates[0] == pytest.approx(1e-6)
    assert 1e-6 <= lr_finder.suggest(curve.learning_rates, curve.smoothed_losses).learning_rate <= 1.0
