"""The Train page's control of a training: Pause, Resume and Step while it trains, and Let the queue go on while it is
paused; One more epoch and +N epochs once it has a model (a new model that continues this one). Who may is checked by
the library (Job.pause, …), not here."""

import streamlit as st

from dashboard import jobs
from mnistlib.names import as_text
from mnistlib.training import ENDED

SAID = "train_control_said"  # session state: what the last control click was told, shown once below the buttons
RENDERED = "train_rendered_control"  # session state: the job's control word when these buttons were drawn
PAUSED_TEXT = "Paused — it keeps its place; other trainings wait for a free worker."
PAUSING_TEXT = "Pausing after the steps in progress…"
STEP_HELP = "Train to the end of the epoch in progress (a whole epoch when paused between epochs), then pause."
RELEASING_TEXT = "Letting the queue go on: its model is stored at the end of this epoch, then its worker is freed…"
RELEASE_HELP = ("Free its worker for the trainings waiting: at the end of the epoch in progress (at once when it holds "
                "between epochs) its model is stored, and Resume queues the remaining epochs, which go on from that "
                "model exactly as if it had never paused.")


def status_text(state) -> str | None:
    """The status line of a paused (or pausing) job, or None for every other state."""
    if state.control == "released" and state.status == "paused":
        return (f"Paused, its worker given to the queue: its model of epoch {len(state.history)} is stored; Resume "
                "queues the remaining epochs.")
    if state.control == "release" and state.status not in ENDED:
        return RELEASING_TEXT
    if state.status == "paused":
        return PAUSED_TEXT
    if state.control == "pause" and state.status in ("starting", "running"):
        return PAUSING_TEXT
    return None


def may_control(state, actor) -> bool:
    """Whether actor may pause this job, as Job.pause decides it: its first owner or the teacher."""
    return actor is not None and (actor.teacher or bool(state.owner_keys) and state.owner_keys[0] == actor.key)


def pause_buttons(job_id: str, state, actor) -> None:
    """Pause (or Resume), Step and Let the queue go on for a training not ended yet (a queued one says it has not
    started when asked: these buttons are drawn once, not on every poll); one sentence instead for a student who
    joined it."""
    if state is None or state.status in ENDED:
        return
    st.session_state[RENDERED] = (job_id, state.control)
    if not may_control(state, actor):
        first = as_text(state.owners[0]) if state.owners else "another student"
        st.caption(f"{first} started this shared training, so only they (or the teacher) can pause, resume or step "
                   "it: it runs for everyone who joined.")
        return
    held = state.control in ("pause", "release", "released")
    pause_column, step_column, release_column = st.columns(3)
    # Callbacks run before the script, so the buttons below are drawn from the state the click made.
    if held:
        pause_column.button("Resume", key="train_resume", width="stretch", on_click=_act,
                            args=(job_id, "resume", actor))
    else:
        pause_column.button("Pause", key="train_pause", width="stretch", on_click=_act, args=(job_id, "pause", actor),
                            help="Hold the training still: the model stays in its worker's memory, which keeps its "
                                 "place.")
    step_column.button("Step", key="train_step", width="stretch", help=STEP_HELP, on_click=_act,
                       args=(job_id, "step", actor), disabled=state.control in ("release", "released"))
    release_column.button("Let the queue go on", key="train_release", width="stretch", help=RELEASE_HELP,
                          on_click=_act, args=(job_id, "let_queue_go_on", actor), disabled=state.control != "pause")
    said = st.session_state.pop(SAID, None)
    if said:
        (st.error if said[0] == "error" else st.caption)(said[1])


def _act(job_id: str, action: str, actor) -> None:
    """A button's callback: ask the job to pause, resume, step or let the queue go on (the library says whether it
    may)."""
    from mnistlib import store

    job = jobs.job(job_id)
    if job is None:
        return
    try:
        st.session_state[SAID] = ("said", getattr(job, action)(actor))
    except store.PermissionDenied as refusal:
        st.session_state[SAID] = ("error", str(refusal))


def changed_since_drawn(job_id: str, state) -> bool:
    """True when the job's control word changed since the buttons were drawn (a Step ended in a pause)."""
    drawn = st.session_state.get(RENDERED)
    return bool(drawn) and drawn[0] == job_id and drawn[1] != state.control and state.status not in ENDED


def continue_buttons(state, actor) -> None:
    """One more epoch and +N epochs, for an ended training that left a model: each trains a new model (the
    student's) from this one's weights and optimizer state."""
    if state is None or state.status not in ("finished", "stopped") or state.model_id is None \
            or state.result is not None:
        return

    st.caption(f"Continue this model from where it is ({len(state.history)} epochs): a new model that names it as "
               "its parent and keeps its history.")
    one_column, count_column, more_column = st.columns([2, 1, 2], vertical_alignment="bottom")
    one_column.button("One more epoch", key="train_one_more", disabled=actor is None, width="stretch",
                      on_click=_continue, args=(state.model_id, 1))
    count = count_column.number_input("More epochs", value=5, step=1, key="train_more_epochs")
    label = f"+{count} epoch{'' if count == 1 else 's'}" if count >= 1 else "+N epochs"
    more_column.button(label, key="train_more", disabled=actor is None, width="stretch", on_click=_continue,
                       args=(state.model_id, None))
    said = st.session_state.pop(SAID, None)
    if said:
        st.error(said[1])


def _continue(model_id: str, epochs) -> None:
    """A button's callback: train model_id for epochs (None: the number typed) more, as a new job of this student;
    the run that follows shows that job. A refused number is said in one sentence; nothing is trained."""
    from mnistlib.training import continuing

    if epochs is None:
        epochs = st.session_state.get("train_more_epochs")
    try:
        request = continuing.continuation(model_id, epochs)
        started = jobs.start_training(request)  # None: it said why
    except ValueError as error:  # the number, or the model gone meanwhile
        st.session_state[SAID] = ("error", str(error))
        return
    if started:
        st.session_state.pop("train_rendered_status", None)
