"""The Train page's job part: Train and Stop, where the job stands, its live progress and curves (drawn in the browser,
which each poll sends only the new points), and what it gave.

While the job runs, the watching tab polls GET /api/jobs/<id>/progress (dashboard/routes.py, answered by poll_data)
twice a second: no rerun of the page or a fragment. The part showing the job reruns when the tab sees the job end,
and then once the whole page, to show the result."""

import math
import re

import streamlit as st

from dashboard import identity, jobs, layout, rerun_count
from dashboard.components import live_training
from dashboard.train import controls as train_controls
from dashboard.train import summary as train_summary
from mnistlib import concepts, datasets, names
from mnistlib.names import as_text
from mnistlib.training import ENDED, TrainRequest


def reattach_from_url() -> None:
    """Coming back with ?job=… (e.g. after closing the tab) shows that job again."""
    wanted = st.query_params.get("job")
    if wanted and "job_id" not in st.session_state:
        if re.fullmatch(r"[0-9a-f]{12}", wanted) and jobs.job(wanted):
            st.session_state["job_id"] = wanted
        else:
            st.info("That training is no longer running here; its model, if it finished, is in the model list "
                    "on the Predict page.")
            st.query_params.pop("job", None)


def show_result(state, num_classes: int) -> None:
    """The final figures, the overfitting verdict (on validation) and where the model went, once the job has ended."""
    if state.status == "failed":
        st.error(state.message)
        return
    if state.model_id is None:
        st.warning("Stopped before the first epoch finished: no model was saved.")
        return
    if state.status == "stopped":
        st.warning(f"Stopped. The model as of epoch {len(state.history)} (the last finished one) was saved.")
    elif state.message:
        st.info(state.message)
    last = state.history[-1]
    train, validation, test, test_loss = st.columns(4)
    train.metric("Training accuracy (last epoch)", f"{last['accuracy']:.2%}", help=concepts.note("training_figures"))
    validation.metric("Validation accuracy (last epoch)",
                      "no split" if last.get("val_accuracy") is None else f"{last['val_accuracy']:.2%}",
                      help="On the training images held back for validation, after the last epoch. Choose settings "
                           "by this figure.")
    test.metric("Test accuracy", f"{state.test_accuracy:.2%}",
                help="The final check, on test images the model never learned from. This app shows it after every "
                     "epoch to watch learning; do not choose settings by it.")
    test_loss.metric("Test loss", f"{state.test_loss:.4f}", help=concepts.loss_value_note(num_classes))
    train_summary.overfitting_summary(state)  # the accuracy gap against noise, then the validation loss's verdict
    st.success("Saved: the other pages now list it.")
    layout.page_link("app_pages/predict.py", "Browse its predictions →", {"model": state.model_id})


def sharing_note(state) -> None:
    """Who shares this training, said from this student's point of view (a shared job runs once for all)."""
    actor = identity.current_actor()
    me = actor.key if actor else ""
    if me and me in state.left_keys:
        st.info("You left this shared training: it goes on for the students who asked for exactly the same, and its "
                "model will not be in your list. Click **Train** to train it for yourself again.")
        return
    others = [display for key, display in zip(state.owner_keys, state.owners, strict=True) if key != me]
    if not others or state.reused:
        return
    who = ", ".join(names.markdown_escape(display) for display in others[:5]) + (
        f" and {len(others) - 5} more" if len(others) > 5 else "")
    if state.owner_keys and state.owner_keys[0] == me:
        st.caption(f"Shared with {who}: they asked for exactly this training (same data, settings, seed and "
                   "epochs), so it runs once and the model goes into each of your lists.")
    else:
        st.info(f"{who} already started exactly this training (same data, settings, seed and epochs), so you "
                "joined it, from where it is: it runs once for all of you, and the model goes into your list too. "
                "Change the seed for a run of your own.")


def stop(job_id: str) -> None:
    """Stop this student's training (in a shared one: leave it); the trainer checks who may."""
    from mnistlib import store

    job = jobs.job(job_id)
    if job is None:
        return
    try:
        st.toast(job.stop(identity.current_actor()))
    except store.PermissionDenied as refusal:
        st.error(str(refusal))


SENT = "train_live_sent"  # session state: {job, points, records} this session's live view has been sent
VIEW_KEY, FEED_KEY = "train_live_view", "train_live_feed"
FINISHING_WAIT_SECONDS = 3.0  # after the last epoch, a poll waits this long at most for the model to be stored


def _sent(job_id: str) -> dict:
    """How many running points and epoch records of job_id this session has sent to its browser."""
    sent = st.session_state.get(SENT)
    if not sent or sent.get("job") != job_id:
        sent = st.session_state[SENT] = {"job": job_id, "points": 0, "records": 0}
    return sent


def _resend() -> None:
    """The browser missed a message (it saw a gap): send again everything after what it says it has."""
    asked = (st.session_state.get(FEED_KEY) or {}).get("resend")
    sent = st.session_state.get(SENT)
    if not isinstance(asked, dict) or not sent or asked.get("job") != sent["job"]:
        return
    for name in ("points", "records"):
        have = asked.get(name)
        if isinstance(have, int) and not isinstance(have, bool):
            sent[name] = min(sent[name], max(have, 0))


def _ended(job_id: str) -> None:
    """The tab saw the job end through the route: it has the points and records it says (the rerun this starts
    sends only what comes after them)."""
    told = (st.session_state.get(FEED_KEY) or {}).get("ended")
    sent = st.session_state.get(SENT)
    if not isinstance(told, dict) or not sent or told.get("job") != sent["job"] or sent["job"] != job_id:
        return
    for name in ("points", "records"):
        have = told.get(name)
        if isinstance(have, int) and not isinstance(have, bool) and have >= 0:
            sent[name] = have


def poll_data(job, points: int, records: int, curves: bool) -> dict:
    """What GET /api/jobs/<id>/progress answers a tab that has the first `points` points and `records` epoch records
    of job: view_data for what comes after them (the route first waits for a job about to end: routes.ending_wait)."""
    return view_data(job.progress_since(points), {"job": job.id, "points": points, "records": records}, curves)


def _finite(value):
    """A number JSON can carry (NaN and infinity cannot): rounded, or None."""
    return round(value, 5) if value is not None and math.isfinite(value) else None


def view_data(state, sent: dict, curves: bool) -> dict:
    """What the browser's live view needs now: the status, the progress bar and the points and epoch records it has
    not been sent yet (state from Job.progress_since(sent["points"]))."""
    if state.status == "queued":
        ahead = state.queue_position
        status_text = (f"Waiting for a free trainer: {ahead} training(s) ahead of you." if ahead
                       else "Starting a trainer…")
    elif state.status == "starting":
        status_text = "Building the model and preparing the data…"
    else:
        status_text = f"Training on {state.where}." if state.where and state.status not in ENDED else ""
    status_text = train_controls.status_text(state) or status_text
    done = ((state.epoch - 1) + state.batch / state.batches) / state.epochs if state.batches else 0.0
    text = f"Epoch {state.epoch}/{state.epochs} · step {state.batch}/{state.batches}" if state.batches else "Waiting"
    if state.eta_seconds is not None:
        text += f" · about {state.eta_seconds:.0f} s left"
    records_from = min(sent["records"], len(state.history))
    return {
        "job": sent["job"], "status": state.status, "status_text": status_text, "progress_text": text, "epochs": state.epochs,
        "fraction": 1.0 if state.status == "finished" else round(min(max(done, 0.0), 1.0), 4),
        "curves": curves or state.status in ENDED,
        "points_from": state.progress_from,
        "points": [[point["step"], _finite(point["loss"]), _finite(point["accuracy"])] for point in state.progress],
        "records_from": records_from,
        "records": [[record["epoch"], _finite(record["loss"]), _finite(record["accuracy"]),
                     _finite(record.get("val_loss")), _finite(record.get("val_accuracy"))]
                    for record in state.history[records_from:]],
    }


def curves_caption(state, active: bool, num_classes: int) -> None:
    """Above the live view (outside the polling part, so polls do not resend it): what the curves show, or that
    live curves are off; nothing for an ended job without an epoch."""
    if not active and (state is None or not state.history):
        return
    if not active or st.session_state.get("train_live_curves", True):
        st.caption(concepts.note("training_figures") + " The light line is the running average within each epoch. "
                   f"A loss near {concepts.guessing_loss(num_classes):.2f} (= ln {num_classes}) means the model is "
                   "still guessing.")
    else:
        st.caption("Live curves are off: they are drawn when training ends.")


def controls(dataset: str, spec, epochs: int, num_classes: int, actor, lab: dict | None = None) -> None:
    """Train and Stop, the Live curves switch and the job's view (spec None: the settings are invalid; actor None:
    no name given yet, so no training; lab: the overfitting lab's TrainRequest settings)."""
    job_id = st.session_state.get("job_id")
    state = jobs.job_state(job_id) if job_id else None
    # A student who left a shared training (their Stop) may start again; the others' training goes on.
    active = state is not None and state.status not in ENDED and not (actor and actor.key in state.left_keys)
    train_column, stop_column = st.columns(2)
    if train_column.button("Train", type="primary", key="train_start", disabled=spec is None or active or actor is None,
                           width="stretch"):
        started = jobs.start_training(TrainRequest(dataset=dataset, spec=spec, epochs=epochs, **(lab or {})))  # None: it said why
        if started:
            job_id, active = started, True
            st.session_state.pop("train_rendered_status", None)
    if stop_column.button("Stop", key="train_stop", disabled=not active, width="stretch"):
        stop(job_id)
    if active:
        train_controls.pause_buttons(job_id, jobs.job_state(job_id), actor)  # Pause/Resume, Step
    elif job_id and not (state and actor and actor.key in state.left_keys):
        train_controls.continue_buttons(state, actor)  # One more epoch, +N epochs
    st.toggle("Live curves", value=True, key="train_live_curves",
              help="Add the newest points to the loss and accuracy curves twice a second while training. Off: only "
                   "the progress bar moves, and the curves are drawn when training ends.")
    st.caption(f"Training on {as_text(datasets.info(dataset).title)} runs on the server, not in this page: you can leave the "
               "page or close the tab — it goes on, and the model is saved for every page to use.")
    if job_id:
        # While the job runs, its view polls twice a second; each poll sends the browser only the new points.
        show_job(job_id, state, active, num_classes)


def show_job(job_id: str, state, active: bool, num_classes: int) -> None:
    """The job's part of the Train page: what the curves show, the live view (outside the polling part: the same
    element, sent once, while the job is shown) and the part that polls twice a second while the job is active."""
    if state is None and not active:
        st.info("This server does not know that training (the link may be old, or its record was cleared).")
        return
    curves_caption(state, active, num_classes)
    live_training.live_training_view(job_id, key=VIEW_KEY)
    st.fragment(live_view)(job_id, num_classes, active)


def live_view(job_id: str, num_classes: int, polling: bool) -> None:
    """Feed the live view, and show who shares the job and, once it ended, its results. While the job is active
    (polling), the tab polls the job's progress route itself; this part reruns when the tab saw the job end (or,
    for a session the route refuses, each time the tab asks). Each run reads and sends only the points that are new
    since the last (Job.progress_since); the browser appends them."""
    rerun_count.fragment_rerun("fragment-live")
    job = jobs.job(job_id)
    if job is None:
        return
    sent = _sent(job_id)
    state = job.progress_since(sent["points"])
    if polling and state.status == "running" and state.epochs and len(state.history) >= state.epochs:
        # Every epoch is done; only the final test figures and the saving are left (a fraction of a second): wait
        # for them here rather than for the next poll, so the results show as soon as the model is stored.
        job.wait(timeout=FINISHING_WAIT_SECONDS)
        state = job.progress_since(sent["points"])
    data = view_data(state, sent, st.session_state.get("train_live_curves", True))
    # Every element here is re-sent (and re-rendered by the watching browser) on every run of this part: the feed is
    # small. While the job runs there are no such runs: the tab polls poll_url (the sharing note shows who joined at
    # the next run of the page).
    live_training.live_training_feed({**data, "poll_url": f"api/jobs/{job_id}/progress" if polling else None},
                                     key=FEED_KEY, on_resend=_resend, on_ended=lambda: _ended(job_id))
    sharing_note(state)
    just_ended = state.status in ENDED and st.session_state.get("train_rendered_status") != state.status
    if not (just_ended and polling):  # a rerun starting now drops what this run has not sent yet: it sends it again
        sent["points"], sent["records"] = data["points_from"] + len(data["points"]), len(state.history)
    if state.status in ENDED:
        show_result(state, num_classes)
    if just_ended:
        st.session_state["train_rendered_status"] = state.status
        if polling:
            st.rerun(scope="app")  # once, so the page stops polling and the sidebar updates
    elif polling and train_controls.changed_since_drawn(job_id, state):
        st.rerun(scope="app")  # a Step ended in a pause: show Resume
