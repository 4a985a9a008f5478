"""The Train page's job view: where the job stands, its live progress and curves, and what it gave."""

import re

import streamlit as st

import ui
import ui_identity
from mnistlib import concepts, names, plots
from mnistlib.training import ENDED


def reattach_from_url() -> None:
    """Coming back with ?job=… (e.g. after closing the tab) shows that job again."""
    wanted = st.query_params.get("job")
    if wanted and "job_id" not in st.session_state:
        if re.fullmatch(r"[0-9a-f]{12}", wanted) and ui.job(wanted):
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
    verdict, sentence = concepts.overfitting_verdict(state.history)
    if verdict == "overfitting":
        st.info(sentence + " " + concepts.note("overfitting"))
    else:
        st.caption(sentence)
    st.success("Saved: the other pages now list it.")
    ui.page_link("pages/predict.py", "Browse its predictions →", {"model": state.model_id})


def sharing_note(state) -> None:
    """Who shares this training, said from this student's point of view (a shared job runs once for all)."""
    actor = ui_identity.current_actor()
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

    job = ui.job(job_id)
    if job is None:
        return
    try:
        st.toast(job.stop(ui_identity.current_actor()))
    except store.PermissionDenied as refusal:
        st.error(str(refusal))


def live_view(job_id: str, num_classes: int) -> None:
    """Progress, curves and results of one job; reruns itself every 0.5 s while the job is active."""
    state = ui.job_state(job_id)
    if state is None:
        st.info("This server does not know that training (the link may be old, or its record was cleared).")
        return
    sharing_note(state)
    if state.where and state.status not in ENDED:
        st.caption(f"Training on {state.where}.")
    if state.status == "queued":
        ahead = state.queue_position
        st.info(f"Waiting for a free trainer: {ahead} training(s) ahead of you." if ahead
                else "Starting a trainer…")
    elif state.status == "starting":
        st.info("Building the model and preparing the data…")
    done = ((state.epoch - 1) + state.batch / state.batches) / state.epochs if state.batches else 0.0
    text = f"Epoch {state.epoch}/{state.epochs} · step {state.batch}/{state.batches}" if state.batches else "Waiting"
    if state.eta_seconds is not None:
        text += f" · about {state.eta_seconds:.0f} s left"
    st.progress(min(max(done, 0.0), 1.0) if state.status not in ("finished",) else 1.0, text=text)
    if (state.history or state.progress) and (state.status in ENDED or st.session_state.get("train_live_curves", True)):
        st.plotly_chart(plots.training_curves(state.history, state.progress), key="train_curves")
        st.caption(concepts.note("training_figures") + " The light line is the running average within each epoch. "
                   f"A loss near {concepts.guessing_loss(num_classes):.2f} (= ln {num_classes}) means the model is "
                   "still guessing.")
    elif state.status not in ENDED:
        st.caption("Live curves are off: they are drawn when training ends.")
    if state.status in ENDED:
        show_result(state, num_classes)
        if st.session_state.get("train_rendered_status") != state.status:
            st.session_state["train_rendered_status"] = state.status
            st.rerun(scope="app")  # once, so the page stops polling and the sidebar updates
