"""The Train page's live view, server side: each poll sends the browser only what is new (Job.progress_since), a page
opened after the end gets everything at once, and a browser that missed a message gets it again."""

import json
import math
import time

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.train import live as train_live
from mnistlib import models, store
from mnistlib.training import events
from mnistlib.training.jobs import Job
from mnistlib.training.requests import TrainRequest
from tests import page_runs


@pytest.fixture(autouse=True)
def small_subset(monkeypatch):
    monkeypatch.setenv("MNISTLIB_SUBSET", "small")


def job_with_progress(points: int, epochs_done: int = 0, epochs: int = 3) -> Job:
    """A job fed real events: `points` progress events in epoch 1, then `epochs_done` finished epochs."""
    job = Job("0123456789ab", TrainRequest("mnist", models.ModelSpec(), epochs, subset="small"))
    job.apply(events.Started(job.id, "this machine"))
    for batch in range(1, points + 1):
        job.apply(events.Progress(job.id, 1, epochs, batch, 28, 2.3 / batch, 0.1 * batch, 0.01 * batch))
    for epoch in range(1, epochs_done + 1):
        job.apply(events.EpochEnd(job.id, epoch, epochs, 0.5 / epoch, 0.9, 0.6 / epoch, 0.88, 0.2 * epoch))
    return job


def test_progress_since_copies_only_the_new_points():
    job = job_with_progress(5)
    state = job.progress_since(3)
    assert state.progress_from == 3 and [point["loss"] for point in state.progress] == [2.3 / 4, 2.3 / 5]
    assert state.status == "running" and state.batch == 5 and state.epochs == 3
    job.apply(events.Progress(job.id, 1, 3, 6, 28, 0.3, 0.6, 0.06))
    assert len(state.progress) == 2  # a copy: later events do not change it
    assert job.progress_since(99).progress_from == 6 and job.progress_since(99).progress == []
    assert job.progress_since(0).progress == job.snapshot().progress


def test_view_data_sends_what_is_new_and_says_where_training_stands():
    job = job_with_progress(4, epochs_done=1)
    sent = {"job": job.id, "points": 2, "records": 0}
    data = train_live.view_data(job.progress_since(sent["points"]), sent, curves=True)
    assert data["points_from"] == 2 and data["points"] == [[round(3 / 28, 4), round(2.3 / 3, 5), 0.3],
                                                           [round(4 / 28, 4), round(2.3 / 4, 5), 0.4]]
    assert data["records_from"] == 0 and data["records"] == [[1, 0.5, 0.9, 0.6, 0.88]]
    assert data["progress_text"].startswith("Epoch 1/3 · step 4/28 · about ") and data["fraction"] == round(4 / 84, 4)
    assert data["status_text"] == "Training on this machine." and data["curves"] is True
    sent = {"job": job.id, "points": 4, "records": 1}
    data = train_live.view_data(job.progress_since(4), sent, curves=False)
    assert data["points"] == [] and data["records"] == [] and data["curves"] is False
    assert len(json.dumps(data)) < 300  # a poll with nothing new is a few hundred bytes


def test_view_data_of_an_ended_job_shows_the_curves_and_a_full_bar():
    job = job_with_progress(2, epochs_done=3)
    job.apply(events.Finished(job.id, "20261124-201500-3fa9c2", job.snapshot().history, 0.2, 0.93))
    data = train_live.view_data(job.progress_since(0), {"job": job.id, "points": 0, "records": 0}, curves=False)
    assert data["curves"] is True and data["fraction"] == 1.0 and data["status_text"] == ""
    assert [record[0] for record in data["records"]] == [1, 2, 3] and len(data["points"]) == 2


def test_a_loss_that_is_not_a_number_travels_as_null():
    job = Job("0123456789ab", TrainRequest("mnist", models.ModelSpec(), 1, subset="small"))
    job.apply(events.Progress(job.id, 1, 1, 1, 28, math.nan, 0.1, 0.01))
    data = train_live.view_data(job.progress_since(0), {"job": job.id, "points": 0, "records": 0}, curves=True)
    assert data["points"][0][1] is None
    json.loads(json.dumps(data, allow_nan=False))  # what the browser parses


def resend_script():
    import json

    import streamlit as st

    from dashboard.train import live as train_live

    st.session_state["train_live_sent"] = {"job": "0123456789ab", "points": 40, "records": 3}
    st.session_state["train_live_feed"] = st.session_state["asked"]
    train_live._resend()
    st.write(json.dumps(st.session_state["train_live_sent"]))


@pytest.mark.parametrize("asked, expected", [
    ({"resend": {"job": "0123456789ab", "points": 12, "records": 1}}, {"points": 12, "records": 1}),
    ({"resend": {"job": "another00000", "points": 0, "records": 0}}, {"points": 40, "records": 3}),  # other job
    ({"resend": {"job": "0123456789ab", "points": -5, "records": "x"}}, {"points": 0, "records": 3}),
    ({"resend": {"job": "0123456789ab", "points": 99, "records": 9}}, {"points": 40, "records": 3}),  # never ahead
    ({}, {"points": 40, "records": 3}),
])
def test_a_browser_that_missed_points_gets_them_again(asked, expected):
    app = AppTest.from_function(resend_script, default_timeout=30)
    app.session_state["asked"] = asked
    app.run()
    assert not app.exception
    assert json.loads(app.markdown[0].value) == {"job": "0123456789ab", **expected}


def live_data(app):
    """The data of the page's live-training element in the last run."""
    elements = [element.proto for element in app.get("bidi_component")
                if element.proto.component_name == "mnist_lab.live_training_feed"]
    assert len(elements) == 1
    return json.loads(elements[0].json)


def run_page(session=None, query=None):
    return page_runs.run_page("app_pages/train.py", query, session)


def test_each_poll_sends_only_new_points_and_a_later_visitor_gets_them_all():
    app = run_page(session={"actor": store.Actor("ada", "Ada")}, query={"seed": "4242", "arch": "cnn"})
    app.number_input(key="train_epochs").set_value(4).run()
    app.button(key="train_start").click().run()
    assert not app.exception
    received, deadline = [], time.monotonic() + 180
    while not app.metric and time.monotonic() < deadline:
        received.append(live_data(app))
        time.sleep(0.2)
        app.run()
        assert not app.exception
    final = live_data(app)  # the run after the end (AppTest shows the last of the runs a rerun makes)
    points, records = [], []
    for data in received:  # each message starts exactly where the one before ended
        assert data["points_from"] == len(points) and data["records_from"] == len(records)
        points += data["points"]
        records += data["records"]
    # The run that saw the end and reran the page advanced nothing (the rerun drops what it had not sent yet): the
    # last message starts where the ones received ended, and completes them.
    assert final["points_from"] == len(points) and final["records_from"] == len(records) and final["curves"] is True
    assert [record[0] for record in records + final["records"]] == [1, 2, 3, 4]
    app.run()  # a rerun after the end sends nothing again
    assert live_data(app)["points"] == [] and live_data(app)["records"] == []
    elements = {element.proto.component_name: element.proto for element in app.get("bidi_component")}
    view, feed = elements["mnist_lab.live_training"], elements["mnist_lab.live_training_feed"]
    # The view's element (~15 kB of code) is the same on every run, so Streamlit sends only a reference to it; what
    # changes on each poll is the feed, a small element.
    assert json.loads(view.json) == {"job": app.session_state["job_id"]} and len(view.SerializeToString()) > 10_000
    assert len(feed.SerializeToString()) < 1_500

    later = run_page(query={"job": app.session_state["job_id"]})  # a page opened after the end: all in one message
    data = live_data(later)
    assert data["points_from"] == 0 and data["points"][: len(points)] == points and data["records"][:len(records)] == records
    assert [record[0] for record in data["records"]] == [1, 2, 3, 4] and len(data["points"]) >= 4
    assert data["fraction"] == 1.0 and data["curves"] is True and later.metric
