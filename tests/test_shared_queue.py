"""The claim table that makes several server processes one queue: real processes claim, die and are taken over."""

import multiprocessing
import os
import signal
import time

import pytest

from mnistlib.store import Actor, index
from mnistlib.training import shared_queue
from mnistlib.training.shared_queue import SharedQueue

KEY = "a-request-key"
REQUEST = {"dataset": "mnist", "epochs": 1}


def claim_at_once(models_dir: str, start, number: int, results) -> None:
    """In a spawned process: wait for the start signal, then claim KEY for this process's own job."""
    os.environ["MNISTLIB_MODELS_DIR"] = models_dir
    queue = SharedQueue()
    start.wait(60)
    claim = queue.claim(KEY, f"job-{number}", REQUEST, [Actor(f"student-{number}", f"Student {number}")])
    results.put((number, claim.process == queue.process, claim.job_id, [owner.key for owner in claim.owners]))


def claim_and_wait(models_dir: str, claimed) -> None:
    """In a spawned process: claim KEY, say so, and wait to be killed."""
    os.environ["MNISTLIB_MODELS_DIR"] = models_dir
    SharedQueue().claim(KEY, "job-doomed", REQUEST, [Actor("ada", "Ada")])
    claimed.set()
    time.sleep(600)


@pytest.fixture
def spawn():
    return multiprocessing.get_context("spawn")


def test_two_processes_claiming_one_key_at_once_make_one_winner(models_dir, spawn):
    start, results = spawn.Event(), spawn.Queue()
    processes = [spawn.Process(target=claim_at_once, args=(str(models_dir), start, number, results))
                 for number in range(2)]
    for process in processes:
        process.start()
    start.set()
    answers = sorted(results.get(timeout=120) for _ in processes)
    for process in processes:
        process.join(60)
    winners = [number for number, won, _, _ in answers if won]
    assert len(winners) == 1
    assert {job_id for _, _, job_id, _ in answers} == {f"job-{winners[0]}"}  # the loser follows the winner's job
    stored = SharedQueue().get(KEY)
    assert stored.job_id == f"job-{winners[0]}" and stored.status == "active"
    assert sorted(owner.key for owner in stored.owners) == ["student-0", "student-1"]  # both get its model


def test_a_killed_process_claim_is_taken_over_once(models_dir, spawn):
    claimed = spawn.Event()
    doomed = spawn.Process(target=claim_and_wait, args=(str(models_dir), claimed))
    doomed.start()
    assert claimed.wait(120)
    survivor, other = SharedQueue(), SharedQueue()
    assert survivor.dead_claims() == []  # alive: its claim is respected
    assert survivor.claim(KEY, "job-mine", REQUEST).job_id == "job-doomed"
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.join(30)
    dead = survivor.dead_claims()
    assert [claim.job_id for claim in dead] == ["job-doomed"]
    taken = survivor.take_over(dead[0])
    assert taken.process == survivor.process and taken.job_id == "job-doomed" and taken.attempt == 2
    assert [owner.key for owner in taken.owners] == ["ada"]  # its students are still its owners
    assert other.take_over(dead[0]) is None  # a second process that saw it dead comes too late
    assert other.dead_claims() == []


def test_a_claim_without_heartbeat_is_dead_even_if_its_process_lives(models_dir):
    hung, survivor = SharedQueue(), SharedQueue()
    hung.claim(KEY, "job-hung", REQUEST)
    assert survivor.dead_claims() == []
    old = time.time() - shared_queue.STALE_SECONDS - 1
    index.run(lambda connection: connection.execute("UPDATE training_claims SET heartbeat = ?", (old,)))
    assert [claim.job_id for claim in survivor.dead_claims()] == ["job-hung"]
    hung.beat()  # it beats again (it was only slow): alive again
    assert survivor.dead_claims() == []


def test_events_reach_followers_in_order_and_a_new_attempt_starts_empty(models_dir):
    owner, follower = SharedQueue(), SharedQueue()
    owner.claim(KEY, "job-1", REQUEST)
    owner.beat({(KEY, 1): [{"kind": "Started", "job": "job-1"}]})
    owner.beat({(KEY, 1): [{"kind": "Progress", "job": "job-1", "epoch": 1}, {"kind": "EpochEnd", "job": "job-1"}]})
    assert [message["kind"] for message in follower.events_after(KEY, 1, 0)] == ["Started", "Progress", "EpochEnd"]
    assert [message["kind"] for message in follower.events_after(KEY, 1, 2)] == ["EpochEnd"]
    old = time.time() - shared_queue.STALE_SECONDS - 1
    index.run(lambda connection: connection.execute("UPDATE training_claims SET heartbeat = ?", (old,)))
    taken = follower.take_over(follower.dead_claims()[0])
    assert follower.events_after(KEY, taken.attempt, 0) == []
    assert owner.release(KEY, "finished", "model-1") is False  # no longer its claim: the new attempt's ending counts


def test_a_claim_is_released_when_its_training_ends_or_fails(models_dir):
    queue, later = SharedQueue(), SharedQueue()
    queue.claim(KEY, "job-1", REQUEST, [Actor("ada", "Ada")])
    assert queue.release(KEY, "failed", None, "The training could not run.")
    failed = later.get(KEY)
    assert failed.status == "failed" and failed.message == "The training could not run."
    retried = later.claim(KEY, "job-2", REQUEST, [Actor("bob", "Bob")])  # a failed key can be trained again
    assert retried.process == later.process and retried.job_id == "job-2" and retried.status == "active"
    assert later.release(KEY, "finished", "model-2")
    third = SharedQueue().claim(KEY, "job-3", REQUEST, [Actor("cy", "Cy")])
    assert third.status == "finished" and third.model_id == "model-2"  # a finished key hands out its model
    assert sorted(owner.key for owner in third.owners) == ["bob", "cy"]
    with pytest.raises(ValueError, match="ends as one of"):
        later.release(KEY, "paused")


def test_heartbeats_do_not_count_as_changes_the_class_board_shows(models_dir):
    from mnistlib import store

    queue = SharedQueue()
    queue.claim(KEY, "job-1", REQUEST)
    before = store.generation()
    queue.beat({(KEY, 1): [{"kind": "Started", "job": "job-1"}]})
    queue.release(KEY, "finished", "model-1")
    assert store.generation() == before  # the board reruns when a model or name changes, not twice a second
