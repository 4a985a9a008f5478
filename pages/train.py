"""Train: choose a network and its settings, train it in a worker process, and watch it learn live."""

import re

import streamlit as st

import ui
from mnistlib import concepts, datasets, models, plots
from mnistlib.training import ENDED, TrainRequest

ui.setup_page("Train", "🏋️")
st.title("Train a network")
name = ui.chosen_dataset()
defaults = models.ModelSpec()


def settings() -> tuple[models.ModelSpec | None, int]:
    """The settings widgets; returns the spec (None when invalid) and the number of epochs."""
    left, middle, right = st.columns(3)
    with left:
        architecture = st.radio("Architecture", models.ARCHITECTURES, key="train_architecture", horizontal=True,
                                format_func=lambda a: "Dense (the seed's)" if a == "dense" else "CNN",
                                help=concepts.note("cnn"))
        hidden_layers = st.slider("Hidden Dense layers", 1, 5, defaults.hidden_layers, key="train_layers",
                                  help=concepts.note("dense"))
        hidden_units = st.select_slider("Units per hidden layer", [16, 32, 64, 128, 256, 512, 1024],
                                        value=defaults.hidden_units, key="train_units")
        dropout = st.slider("Dropout", 0.0, 0.9, models.DEFAULT_DROPOUT[architecture], 0.05,
                            key=f"train_dropout_{architecture}", help=concepts.note("dropout"))
    with middle:
        optimizer = st.selectbox("Optimizer", models.OPTIMIZERS, key="train_optimizer", help=concepts.note("adam"))
        learning_rate = st.select_slider("Learning rate", [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0],
                                         value=defaults.learning_rate, key="train_learning_rate")
        batch_size = st.select_slider("Batch size", [8, 16, 32, 64, 128, 256, 512], value=defaults.batch_size,
                                      key="train_batch_size")
    with right:
        epochs = st.number_input("Epochs", 1, 50, 5, key="train_epochs", help=concepts.note("epochs"))
        validation_split = st.slider("Validation split", 0.0, 0.5, defaults.validation_split, 0.05,
                                     key="train_validation_split", help=concepts.note("validation"))
        seed = st.number_input("Seed", 0, 2**31 - 1, defaults.seed, key="train_seed",
                               help="The same seed and settings give the same starting weights and order.")
    try:
        spec = models.ModelSpec(architecture=architecture, hidden_units=hidden_units, hidden_layers=hidden_layers,
                                dropout=float(dropout), optimizer=optimizer, learning_rate=float(learning_rate),
                                batch_size=int(batch_size), validation_split=float(validation_split), seed=int(seed))
    except ValueError as error:
        st.error(str(error))
        return None, int(epochs)
    return spec, int(epochs)


def model_summary(spec: models.ModelSpec) -> None:
    """The layers, output shapes and parameter counts, before anything is trained."""
    rows = [{"layer": row.name, "kind": row.kind, "output shape": str((None, *row.output_shape)),
             "parameters": row.parameters} for row in models.summary(spec)]
    st.dataframe(rows, hide_index=True, width="stretch")
    st.markdown(f"**Total parameters: {models.count_parameters(spec):,}** — every one is learned from the "
                "training images. Input: 28×28 pixels divided by 255 (0 to 1).")
    with st.expander("What the layers do"):
        for key in ("flatten", "dense", "relu", "softmax", "outputs", "loss"):
            st.markdown(concepts.note(key))


def reattach_from_url() -> None:
    """Coming back with ?job=… (e.g. after closing the tab) shows that job again."""
    wanted = st.query_params.get("job")
    if wanted and "job_id" not in st.session_state:
        if re.fullmatch(r"[0-9a-f]{12}", wanted) and ui.trainer().job(wanted):
            st.session_state["job_id"] = wanted
        else:
            st.info("That training is no longer running here; its model, if it finished, is in the model list "
                    "on the Predict page.")
            st.query_params.pop("job", None)


def show_result(state) -> None:
    """Test figures, the overfitting note and where the model went, once the job has ended."""
    if state.status == "failed":
        st.error(state.message)
        return
    if state.model_id is None:
        st.warning("Stopped before the first epoch finished: no model was saved.")
        return
    if state.status == "stopped":
        st.warning(f"Stopped. The model as of epoch {len(state.history)} (the last finished one) was saved.")
    left, middle, right = st.columns(3)
    left.metric("Test accuracy", f"{state.test_accuracy:.2%}")
    middle.metric("Test loss", f"{state.test_loss:.4f}")
    train_accuracy = state.history[-1]["accuracy"]
    right.metric("Training accuracy (last epoch)", f"{train_accuracy:.2%}")
    gap = train_accuracy - state.test_accuracy
    if gap > 0.02:
        st.info(f"Training accuracy {train_accuracy:.1%} is well above test accuracy {state.test_accuracy:.1%}: the "
                "model fits the images it learned from better than new ones. That is **overfitting**. "
                + concepts.note("overfitting"))
    else:
        st.caption(f"Training and test accuracy are close ({gap:+.1%}): no sign of overfitting yet.")
    st.success("Saved to the model store.")
    ui.page_link("pages/predict.py", "Browse its predictions →", {"model": state.model_id})


def live_view(job_id: str) -> None:
    """Progress, curves and results of one job; reruns itself every 0.5 s while the job is active."""
    state = ui.job_state(job_id)
    if state is None:
        st.info("This server does not know that training any more (it may have restarted).")
        return
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
    elif state.status not in ENDED:
        st.caption("Live curves are off: they are drawn when training ends.")
    if state.status in ENDED:
        show_result(state)
        if st.session_state.get("train_rendered_status") != state.status:
            st.session_state["train_rendered_status"] = state.status
            st.rerun(scope="app")  # once, so the page stops polling and the sidebar updates


spec, epochs = settings()
if spec is not None:
    model_summary(spec)

reattach_from_url()
job_id = st.session_state.get("job_id")
state = ui.job_state(job_id) if job_id else None
active = state is not None and state.status not in ENDED

train_column, stop_column = st.columns(2)
if train_column.button("Train", type="primary", key="train_start", disabled=spec is None or active, width="stretch"):
    job_id = ui.start_training(TrainRequest(dataset=name, spec=spec, epochs=epochs))
    st.session_state.pop("train_rendered_status", None)
    active = True
if stop_column.button("Stop", key="train_stop", disabled=not active, width="stretch"):
    ui.trainer().job(job_id).stop()
    st.toast("Stopping: the last finished epoch is kept.")

st.toggle("Live curves", value=True, key="train_live_curves",
          help="Redraw the loss and accuracy curves twice a second while training. Each redraw costs the browser "
               "about 0.1 s of CPU: on one small machine that both trains and shows the page (a laptop on a "
               "projector), switching this off lets training run faster. The curves are drawn when it ends.")
st.caption(f"Training runs in a separate worker process on {datasets.info(name).title}; you can leave this page "
           "or close the tab — it goes on, and the model lands in the store.")
if job_id:
    # The bar moves twice a second anyway; its CSS transition would make the watching browser repaint it
    # continuously, taking CPU from the training on a small machine.
    st.html("<style>[data-testid='stProgress'] * { transition: none !important; }</style>")
    st.fragment(live_view, run_every=0.5 if active else None)(job_id)
