"""The Train page's live view of a training as Streamlit components (components v2: no iframe, no build step).

Two elements, as for Predict's image browser: `live_training_view` draws the status line, the progress bar and the
loss and accuracy curves (its code and markup, ~15 kB, are the same on every run, so Streamlit sends them once and
afterwards only a reference), and `live_training_feed`, sent on each run, carries only what is new — the running
points and epoch records after those this session sent before, a few hundred bytes — which the view appends to its
curves. While the job runs, the feed polls the job's progress route (poll_url) for what comes next, without a rerun.
"""

from pathlib import Path

import streamlit as st

HERE = Path(__file__).parent


def _asset(name: str) -> str:
    return (HERE / name).read_text(encoding="utf-8")


# The view: one module from two plain files (no build step), the curves and what feeds them.
_view = st.components.v2.component(
    "mnist_lab.live_training", html=_asset("live_training.html"), css=_asset("live_training.css"),
    js="\n".join(_asset(name) for name in ("training_curves.js", "live_training.js", "live_training_poll.js")))
_feed = st.components.v2.component("mnist_lab.live_training_feed", js=_asset("live_training_feed.js"))


def live_training_view(job_id: str, key: str) -> None:
    """The view of job_id's training (the same element on every run while the job is shown)."""
    _view(data={"job": job_id}, key=key)


def live_training_feed(data: dict, key: str, on_resend, on_ended=None) -> None:
    """Send the view one run's data: job, status, status_text, fraction (0–1), progress_text, epochs, curves (draw
    them), points_from and points ([step, loss, accuracy] lists), records_from and records ([epoch, loss, accuracy,
    val_loss, val_accuracy] lists), and poll_url (the job's progress route, polled twice a second while not None).
    on_resend() runs when the browser missed a message: what it has is then `st.session_state[key]["resend"]`
    ({job, points, records}); on_ended() when the route said the job ended (`st.session_state[key]["ended"]`, the
    same fields). Where the route refuses this browser, the feed asks for a rerun instead ("poll") twice a second."""
    _feed(data=data, key=key, height=0, on_resend_change=on_resend, on_ended_change=on_ended or _nothing,
          on_poll_change=_nothing)


def _nothing() -> None:
    """A trigger whose only effect is the rerun it starts."""
