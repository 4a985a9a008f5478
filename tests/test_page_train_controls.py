"""The Train page's controls, server side: Pause shows Resume and the paused line, +N epochs refuses an N out of
range in one sentence (nothing trained or stored), and One more epoch trains a model naming its parent."""

import time

import pytest

from dashboard.train import controls as train_controls
from mnistlib import store
from mnistlib.training import events, journal
from tests import page_runs
from tests.test_train_live import job_with_progress, live_data

ADA = store.Actor("ada", "Ada")


@pytest.fixture(autouse=True)
def small_subset(monkeypatch):
    monkeypatch.setenv("MNISTLIB_SUBSET", "small")


def test_the_status_line_says_paused_or_pausing_and_nothing_otherwise():
    job = job_with_progress(points=3)
    assert train_controls.status_text(job.snapshot()) is None
    job.pause()  # no backend behind this job: the word goes nowhere, the state says what was asked
    assert job.snapshot().control == "pause" and train_controls.status_text(job.snapshot()) == \
        train_controls.PAUSING_TEXT
    job.apply(events.Paused(job.id, 1, 3, 28))
    assert train_controls.status_text(job.snapshot()) == train_controls.PAUSED_TEXT
    assert train_controls.may_control(job.snapshot(), store.TEACHER)
    assert not train_controls.may_control(job.snapshot(), None)


def wait_until(app, condition, seconds=120):
    """Rerun the page (as its polling does) until condition() holds."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.2)
        app.run()
        assert not app.exception
    assert condition(), page_runs.texts(app)


def wait_for_the_end(app, seconds=180):
    deadline = time.monotonic() + seconds
    while not app.metric and time.monotonic() < deadline:
        time.sleep(0.2)
        app.run()
        assert not app.exception
    assert app.metric, page_runs.texts(app)


def test_pause_then_plus_n_refused_then_one_more_epoch_on_the_train_page():
    app = page_runs.run_page("app_pages/train.py", {"seed": "5151", "arch": "cnn"}, {"actor": ADA})
    app.number_input(key="train_epochs").set_value(20).run()
    app.button(key="train_start").click().run()
    assert not app.exception
    wait_until(app, lambda: live_data(app)["status_text"].startswith("Training on"))
    app.button(key="train_pause").click().run()
    assert not app.exception and app.button(key="train_resume")  # the buttons follow what was asked
    wait_until(app, lambda: live_data(app)["status_text"] == train_controls.PAUSED_TEXT)
    # The server's journal keeps it too (a restart then fails it like a running one: its model was in memory).
    wait_until(app, lambda: journal.load(app.session_state["job_id"])["status"] == "paused")
    app.button(key="train_resume").click().run()
    wait_for_the_end(app)
    first_job = app.session_state["job_id"]
    assert journal.load(first_job)["status"] == "finished"
    listed = store.entries()

    app.number_input(key="train_more_epochs").set_value(0).run()
    app.button(key="train_more").click().run()
    assert not app.exception
    assert [error.value for error in app.error] == ["Epochs must be a whole number from 1 to 200."]
    assert app.session_state["job_id"] == first_job and store.entries() == listed  # nothing trained or stored

    app.button(key="train_one_more").click().run()
    assert not app.exception and app.session_state["job_id"] != first_job
    wait_for_the_end(app)
    child = [entry for entry in store.entries(viewer="ada", scope="mine") if entry.epochs_run == 21]
    assert len(child) == 1
    card = store.load_card(child[0].id)
    assert card.parent is not None and store.load_card(card.parent).epochs_run == 20
    assert card.name.endswith(" + 1 epoch")
    insight = page_runs.run_page("app_pages/insight.py", {"model": card.id})  # its map holds its own epoch only
    assert ("This model continued another one, so its map was kept only after the epochs it trained itself (from "
            "epoch 21 on).") in page_runs.texts(insight)


def test_let_the_queue_go_on_then_resume_is_one_training_on_the_train_page():
    """Paused, Let the queue go on stores the model of the epoch boundary and frees the worker; Resume queues the rest:
    the same job, its curves on, and the final model (naming the stored one) is the never-paused training's."""
    from dashboard import jobs
    from tests.test_pause_continue import direct_history

    app = page_runs.run_page("app_pages/train.py", {"seed": "5252", "arch": "cnn"}, {"actor": ADA})
    app.number_input(key="train_epochs").set_value(6).run()
    app.button(key="train_start").click().run()
    wait_until(app, lambda: live_data(app)["status_text"].startswith("Training on"))
    assert app.button(key="train_release").disabled  # only a paused training may
    app.button(key="train_pause").click().run()
    assert not app.button(key="train_release").disabled
    app.button(key="train_release").click().run()
    assert not app.exception and app.button(key="train_resume") and app.button(key="train_step").disabled
    job_id = app.session_state["job_id"]
    wait_until(app, lambda: live_data(app)["status_text"].startswith("Paused, its worker given to the queue"))
    state = jobs.job(job_id).snapshot()
    kept = store.load_card(state.released_model)
    assert live_data(app)["status_text"] == (f"Paused, its worker given to the queue: its model of epoch "
                                             f"{kept.epochs_run} is stored; Resume queues the remaining epochs.")
    assert kept.epochs_run == len(state.history) < 6
    app.button(key="train_resume").click().run()
    assert not app.exception
    wait_for_the_end(app)
    assert app.session_state["job_id"] == job_id  # one training: the same job page all along
    final = jobs.job(job_id).snapshot()
    card = store.load_card(final.model_id)
    assert card.parent == kept.id and [record["epoch"] for record in card.history] == list(range(1, 7))
    assert card.history == direct_history(jobs.job(job_id).request)  # as if it had never paused
