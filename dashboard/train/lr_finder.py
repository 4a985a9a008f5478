"""The Train page's learning-rate finder: fastai's lr_find run as a trainer job on the page's settings, its curve
drawn live and at the end, and one click to set the learning-rate control to the suggestion."""

import dataclasses

import numpy as np
import streamlit as st

from dashboard import identity, jobs
from dashboard.train import settings as train_settings
from dashboard.train.settings import LEARNING_RATES
from mnistlib import insight_figures as figures
from mnistlib import lr_finder, models, names
from mnistlib.training import ENDED, TrainRequest

JOB_KEY = "lr_job_id"  # the finder's job, kept apart from the training's "job_id"
RATE_WIDGET = "train_learning_rate"  # the learning-rate control of dashboard.train.settings
USED_KEY = "lr_used_message"

WHAT = (f"A short run like fastai's `lr_find`, with this app's range: up to {lr_finder.STEPS} batches of training images with the learning "
        f"rate rising exponentially from {lr_finder.START_RATE:.0e} to {lr_finder.END_RATE:g} (fastai's default "
        "range is 1e-07 to 10), recording the loss "
        "after each batch. Too low a rate barely moves the loss, too high makes it explode; a good one lies on the "
        "steep downhill part. It uses your settings above (network, optimizer, batch size, validation split, "
        "seed) except the learning rate, which it varies itself, and it keeps no model. Like a training, it runs "
        "in the trainer and may wait for its turn.")


def finder_section(dataset: str, spec) -> None:
    """"Find a good learning rate": start and stop the finder on spec, its live curve, then its suggestion."""
    job_id = st.session_state.get(JOB_KEY)
    state = jobs.job_state(job_id) if job_id else None
    actor = identity.current_actor()
    active = state is not None and state.status not in ENDED and not (actor and actor.key in state.left_keys)
    with st.expander("🔎 Find a good learning rate", expanded=job_id is not None, key="lr_finder"):
        st.caption(WHAT)
        start_column, stop_column = st.columns(2)
        if start_column.button("Find a learning rate", key="lr_start", width="stretch",
                               disabled=spec is None or active or actor is None):
            started = start_finder(dataset, spec)
            if started:
                job_id, active = started, True
        if stop_column.button("Stop the finder", key="lr_stop", disabled=not active, width="stretch"):
            stop_finder(job_id)
        if actor is None:
            st.caption("Type your name in the sidebar first: the finder runs in your name, like a training.")
        if job_id and active:
            st.fragment(live_view, run_every=0.5)(job_id)
        elif job_id:
            ended_view(job_id, spec)


def finder_request(dataset: str, spec) -> TrainRequest:
    """The finder's job for these settings; the learning rate is left at its default, since the finder sets it
    itself at every step, so students who differ only in that share one run."""
    same_rate = dataclasses.replace(spec, learning_rate=models.ModelSpec().learning_rate)
    return TrainRequest(dataset=dataset, spec=same_rate, epochs=1, kind="find_learning_rate")


def start_finder(dataset: str, spec) -> str | None:
    """Submit the finder for this student; remembers it under JOB_KEY. None, with a message, if it cannot start."""
    from mnistlib.training import ClusterUnavailable

    actor = identity.current_actor()
    if actor is None:
        st.warning("Type your name in the sidebar first, so that the finder runs in your name.")
        return None
    try:
        job = jobs.trainer().submit(finder_request(dataset, spec), owner=actor)
    except ClusterUnavailable as error:
        st.error(str(error))
        return None
    st.session_state[JOB_KEY] = job.id
    st.session_state.pop(USED_KEY, None)
    return job.id


def stop_finder(job_id: str) -> None:
    """Stop this student's finder (in a shared one: leave it, and it goes on for the others)."""
    from mnistlib import store

    job = jobs.job(job_id)
    if job is None:
        return
    shared = len(job.snapshot().owners) > 1
    try:
        job.stop(identity.current_actor())
    except store.PermissionDenied as refusal:
        st.error(str(refusal))
        return
    st.toast("You left the shared finder: it goes on for the others." if shared else
             "Stopping the finder: the curve so far is kept.")


def points_curve(points: list, ended: str = "running") -> lr_finder.Curve:
    """The JobState's rate_points ([{learning_rate, loss, smoothed_loss}]) as a Curve."""
    return lr_finder.Curve(*(np.asarray([point[name] for point in points], np.float64)
                             for name in ("learning_rate", "loss", "smoothed_loss")), ended)


def sharing_note(state) -> None:
    """Who else asked for exactly this finder run (it runs once for all of them)."""
    actor = identity.current_actor()
    others = [display for key, display in zip(state.owner_keys, state.owners, strict=True)
              if not actor or key != actor.key]
    if others:
        who = ", ".join(names.markdown_escape(display) for display in others[:5])
        st.caption(f"Shared with {who}{' and more' if len(others) > 5 else ''}: they asked for the finder on exactly "
                   "these settings, so it runs once for all of you.")


def live_view(job_id: str) -> None:
    """The finder's progress and its curve so far; reruns every 0.5 s until it ends, then redraws the page once."""
    state = jobs.job_state(job_id)
    if state is None or state.status in ENDED:
        st.rerun(scope="app")  # the page then shows the result (or says the job is gone)
    sharing_note(state)
    # As on the training's bar: no CSS transition, which would make the browser repaint it continuously.
    st.html("<style>[data-testid='stProgress'] * { transition: none !important; }</style>")
    if state.status == "queued":
        ahead = state.queue_position
        st.info(f"Waiting for a free trainer: {ahead} job(s) ahead." if ahead else "Starting a trainer…")
    elif state.status == "starting":
        st.info("Building the network and preparing the data…")
    points = state.rate_points
    text = (f"Step {state.batch}/{state.batches} · learning rate {points[-1]['learning_rate']:.1e} · loss "
            f"{points[-1]['loss']:.3f}") if points and state.batches else "Waiting"
    st.progress(min(state.batch / state.batches, 1.0) if state.batches else 0.0, text=text)
    if len(points) >= 2:
        st.plotly_chart(figures.learning_rate_figure(points_curve(points), height=240), key="lr_live_curve")


def ended_view(job_id: str, spec) -> None:
    """The finished (or stopped) finder's curve, its suggestion and the button that uses it."""
    state = jobs.job_state(job_id)
    if state is None:
        st.info("This server no longer knows that finder run (it may have restarted): run it again.")
        return
    actor = identity.current_actor()
    if actor is not None and actor.key in state.left_keys:
        st.info("You left this shared finder run; it goes on for the students who asked for the same. Click "
                "**Find a learning rate** to follow it again.")
        return
    if state.status == "failed":
        st.error(state.message)
        return
    if not state.result or not state.result.get("learning_rates"):
        st.warning("There is no curve to show: the finder was stopped before its first step, or the server "
                   "restarted since it ran. Click **Find a learning rate** to run it again.")
        return
    curve = lr_finder.Curve.from_dict(state.result)
    job = jobs.job(job_id)
    if spec is not None and job is not None and job.request.spec != finder_request(job.request.dataset, spec).spec:
        st.info(f"Your settings changed since this run, which was for {job.request.spec.describe()}: run the finder "
                "again to see the curve of the new ones.")
    fixed = "learning_rate" in train_settings.lesson().fixed
    learning_rate_result(curve, key="lr_result", on_use=None if fixed else use_rate, choices=LEARNING_RATES)
    if fixed:
        st.caption("This lesson fixes the learning rate, so the suggestion is for comparing, not for using here.")
    elif (used := st.session_state.get(USED_KEY)) and st.session_state.get(RATE_WIDGET) == used["rate"]:
        st.success(used["message"])  # only while the control still shows that rate


def use_rate(rate: float, suggested: float) -> None:
    """Set the learning-rate control (a callback, so it runs before the control is drawn again)."""
    st.session_state[RATE_WIDGET] = rate
    same = f"{rate:g}" == f"{suggested:g}"
    message = f"The learning rate above is now {rate:g}" + (
        "." if same else f": the control's choices go in steps ({', '.join(f'{c:g}' for c in LEARNING_RATES)}), and "
        f"{rate:g} is the nearest to the suggested {suggested:g}.") + " Click **Train** to train with it."
    st.session_state[USED_KEY] = {"rate": rate, "message": message}


def learning_rate_result(curve, key: str, on_use=None, choices=None) -> float | None:
    """The finder's curve with its suggestions, and a button calling on_use(rate, suggested) with the suggested
    rate (or, when choices are given, the nearest of them). Returns the suggested rate, or None when the curve is
    too short."""
    try:
        suggestion = lr_finder.suggest(curve.learning_rates, curve.smoothed_losses)
    except ValueError as error:
        st.plotly_chart(figures.learning_rate_figure(curve), key=f"{key}_curve")
        st.warning(str(error))
        return None
    st.plotly_chart(figures.learning_rate_figure(curve, suggestion), key=f"{key}_curve")
    endings = {"finished": "ran all its steps", "exploded": "stopped when the smoothed loss passed 4× its lowest value",
               "not finite": "stopped when the loss stopped being a number", "stopped": "was stopped"}
    st.caption(f"The learning rate rose from {curve.learning_rates[0]:.0e} to {curve.learning_rates[-1]:.2g} over "
               f"{len(curve.learning_rates)} batches; the run {endings.get(curve.ended, curve.ended)}. Too low a rate "
               "barely moves the loss, too high makes it explode; the useful rates are on the steep downhill part. "
               f"Suggested (valley, fastai's default): **{suggestion.valley:.2g}**; steepest descent: "
               f"{suggestion.steepest:.2g}. The weights were reset afterwards: the finder only looks.")
    if on_use is not None:
        # Either suggestion, by keyboard (arrow keys in the radio) as well as by mouse; the valley by default.
        points = {"valley": suggestion.valley, "steepest": suggestion.steepest}
        which = st.radio("Suggestion to use", list(points), key=f"{key}_which", horizontal=True,
                         format_func=lambda name: f"{'valley (suggested)' if name == 'valley' else 'steepest descent'}: "
                                                  f"{points[name]:.2g}")
        suggested = float(f"{points[which]:.2g}")
        rate = suggested if choices is None else lr_finder.nearest_choice(points[which], choices)
        label = (f"Use learning rate {rate:g}" if f"{rate:g}" == f"{suggested:g}" else
                 f"Use learning rate {rate:g} (the nearest choice to {suggested:g})")
        st.button(label, key=f"{key}_use", on_click=on_use, args=(rate, suggested))
    return suggestion.valley
