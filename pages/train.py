"""Train: choose a network and its settings, train it in a worker process, and watch it learn live."""

import re

import streamlit as st

import ui
from mnistlib import concepts, datasets, keras_code, models, plots
from mnistlib.training import ENDED, TrainRequest

ui.setup_page("Train", "🏋️")
st.title("Train a network")
name = ui.chosen_dataset()
data = ui.require_dataset(name)
num_classes = len(data.class_names)
defaults = models.ModelSpec()


UNITS = [16, 32, 64, 128, 256, 512, 1024]
LEARNING_RATES = [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0]
BATCH_SIZES = [8, 16, 32, 64, 128, 256, 512]
FRACTIONS = [round(0.05 * step, 2) for step in range(19)]  # 0.0 … 0.9, the sliders' steps
# Query parameter → (widget key, type, allowed values). A shared link sets up the same training; only settings
# that differ from the defaults are written to the URL.
URL_SETTINGS = {
    "arch": ("train_architecture", str, models.ARCHITECTURES),
    "layers": ("train_layers", int, range(1, 6)),
    "units": ("train_units", int, UNITS),
    "dropout": ("train_dropout", float, FRACTIONS),
    "optimizer": ("train_optimizer", str, models.OPTIMIZERS),
    "lr": ("train_learning_rate", float, LEARNING_RATES),
    "batch": ("train_batch_size", int, BATCH_SIZES),
    "epochs": ("train_epochs", int, range(1, 51)),
    "val": ("train_validation_split", float, FRACTIONS[:11]),
    "seed": ("train_seed", int, range(0, 2**31)),
}


def widget_key(parameter: str, architecture: str) -> str:
    """The widget key of a setting (dropout has one per architecture: their defaults differ)."""
    key = URL_SETTINGS[parameter][0]
    return f"{key}_{architecture}" if parameter == "dropout" else key


def default_settings(architecture: str) -> dict:
    """The settings' defaults: the tutorial's network, 5 epochs."""
    return {"arch": "dense", "layers": defaults.hidden_layers, "units": defaults.hidden_units,
            "dropout": models.DEFAULT_DROPOUT[architecture], "optimizer": defaults.optimizer,
            "lr": defaults.learning_rate, "batch": defaults.batch_size, "epochs": 5,
            "val": defaults.validation_split, "seed": defaults.seed}


def settings_from_url() -> None:
    """On a session's first visit, the settings a shared link asks for (bad ones get a warning), else defaults."""
    if "train_settings_loaded" not in st.session_state:
        st.session_state["train_settings_loaded"] = True
        for parameter, (_, kind, allowed) in URL_SETTINGS.items():
            text = st.query_params.get(parameter)
            if text is None:
                continue
            try:
                value = kind(text)
                if value not in allowed:
                    raise ValueError
            except ValueError:
                st.warning(f"The link's {parameter}={text!r} is not one of the choices here; using the default.")
                continue
            architecture = text if parameter == "arch" else st.query_params.get("arch", "dense")
            st.session_state[widget_key(parameter, architecture if architecture in models.ARCHITECTURES
                                        else "dense")] = value
    architecture = st.session_state.setdefault("train_architecture", "dense")
    for parameter, value in default_settings(architecture).items():
        st.session_state.setdefault(widget_key(parameter, architecture), value)


def settings_to_url() -> None:
    """Write the settings that differ from the defaults to the URL, and remove the others."""
    architecture = st.session_state["train_architecture"]
    for parameter, default in default_settings(architecture).items():
        value = st.session_state.get(widget_key(parameter, architecture), default)
        if value != default:
            st.query_params[parameter] = str(value)
        else:
            st.query_params.pop(parameter, None)


def settings() -> tuple[models.ModelSpec | None, int]:
    """The settings widgets (values from the session, first from the URL); returns the spec (None when
    invalid) and the number of epochs."""
    settings_from_url()
    left, middle, right = st.columns(3)
    with left:
        architecture = st.radio("Architecture", models.ARCHITECTURES, key="train_architecture", horizontal=True,
                                format_func=lambda a: "Dense (the tutorial's)" if a == "dense" else "CNN",
                                help=concepts.note("cnn"))
        st.session_state.setdefault(widget_key("dropout", architecture), models.DEFAULT_DROPOUT[architecture])
        hidden_layers = st.slider("Hidden Dense layers", 1, 5, key="train_layers", help=concepts.note("units"))
        hidden_units = st.select_slider("Units per hidden layer", UNITS, key="train_units",
                                        help=concepts.note("dense"))
        dropout = st.slider("Dropout", 0.0, 0.9, step=0.05, key=widget_key("dropout", architecture),
                            help=concepts.note("dropout"))
    with middle:
        optimizer = st.selectbox("Optimizer", models.OPTIMIZERS, key="train_optimizer",
                                 help=concepts.note("optimizer"))
        learning_rate = st.select_slider("Learning rate", LEARNING_RATES, key="train_learning_rate",
                                         help=concepts.learning_rate_note(num_classes))
        batch_size = st.select_slider("Batch size", BATCH_SIZES, key="train_batch_size", help=concepts.note("batch"))
    with right:
        epochs = st.number_input("Epochs", 1, 50, key="train_epochs", help=concepts.note("epochs"))
        validation_split = st.slider("Validation split", 0.0, 0.5, step=0.05, key="train_validation_split",
                                     help=concepts.note("validation"))
        seed = st.number_input("Seed", 0, 2**31 - 1, key="train_seed",
                               help="The same seed and settings give the same starting weights, the same order of "
                                    "the training images and the same dropout, so a run can be repeated.")
    settings_to_url()
    st.caption(concepts.steps_note(len(data.y_train), float(validation_split), int(batch_size)))
    try:
        spec = models.ModelSpec(architecture=architecture, hidden_units=hidden_units, hidden_layers=hidden_layers,
                                dropout=float(dropout), optimizer=optimizer, learning_rate=float(learning_rate),
                                batch_size=int(batch_size), validation_split=float(validation_split), seed=int(seed))
    except ValueError as error:
        st.error(str(error))
        return None, int(epochs)
    return spec, int(epochs)


def model_summary(spec: models.ModelSpec, epochs: int) -> None:
    """The layers, output shapes and parameter counts, before anything is trained; beside it, what compile() and
    fit() do with them, and the same model and training as plain Keras code."""
    parameters = models.count_parameters(spec, num_classes)
    summary_column, fit_column = st.columns(2, gap="large")
    with summary_column:
        rows = [{"layer": row.name, "kind": row.kind, "output shape": str((None, *row.output_shape)),
                 "parameters": row.parameters} for row in models.summary(spec, num_classes)]
        st.dataframe(rows, hide_index=True, width="stretch")
        st.markdown(f"**Total parameters: {parameters:,}** — every one is learned from the training images. "
                    "Input: 28×28 pixels divided by 255 (0 to 1).")
        with st.expander("What the layers do"):
            keys = ["flatten", "dense", "relu", "softmax", "outputs", "loss"]
            keys += (["cnn"] if spec.architecture == "cnn" else []) + (["dropout"] if spec.dropout else [])
            for key in keys + ["scaling"]:
                st.markdown(concepts.note(key))
    with fit_column:
        st.markdown("**How `compile()` and `fit()` make these parameters**")
        st.markdown(concepts.compile_fit_note(spec, num_classes, parameters, len(data.y_train), epochs))
    where = (f"; `keras.datasets.{name}.load_data()` gives the full {datasets.FULL_SHAPES['y_train'][0]:,}"
             if data.subset == "small" and name in datasets.REGISTRY else "")
    with st.expander("The same model and training in plain Keras"):
        st.markdown(f"With `x_train`, `y_train` the training set as loaded — {len(data.y_train):,} images here{where} "
                    "— its pixels 0–255 are divided by 255 as in training. The code builds the same network with the same "
                    "settings; this app trains it with its own faster loop, which shuffles in another order and "
                    "leaves out the last partial batch, so the numbers come out close but not identical.")
        st.code(keras_code.model_code(spec, num_classes) + f"model.count_params()   # {parameters}\n"
                + keras_code.compile_code(spec) + keras_code.fit_code(spec, epochs), language="python")


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


def show_result(state) -> None:
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
        st.caption(concepts.note("training_figures") + " The light line is the running average within each epoch. "
                   f"A loss near {concepts.guessing_loss(num_classes):.2f} (= ln {num_classes}) means the model is "
                   "still guessing.")
    elif state.status not in ENDED:
        st.caption("Live curves are off: they are drawn when training ends.")
    if state.status in ENDED:
        show_result(state)
        if st.session_state.get("train_rendered_status") != state.status:
            st.session_state["train_rendered_status"] = state.status
            st.rerun(scope="app")  # once, so the page stops polling and the sidebar updates


spec, epochs = settings()
if spec is not None:
    model_summary(spec, epochs)

reattach_from_url()
job_id = st.session_state.get("job_id")
state = ui.job_state(job_id) if job_id else None
active = state is not None and state.status not in ENDED

train_column, stop_column = st.columns(2)
if train_column.button("Train", type="primary", key="train_start", disabled=spec is None or active, width="stretch"):
    started = ui.start_training(TrainRequest(dataset=name, spec=spec, epochs=epochs))  # None: it said why
    if started:
        job_id, active = started, True
        st.session_state.pop("train_rendered_status", None)
if stop_column.button("Stop", key="train_stop", disabled=not active, width="stretch"):
    job = ui.trainer().job(job_id)
    if job is not None:
        job.stop()
    st.toast("Stopping: the last finished epoch is kept.")

st.toggle("Live curves", value=True, key="train_live_curves",
          help="Redraw the loss and accuracy curves twice a second while training. Each redraw costs the browser "
               "about 0.1 s of CPU: on one small machine that both trains and shows the page (a laptop on a "
               "projector), switching this off lets training run faster. The curves are drawn when it ends.")
st.caption(f"Training on {datasets.info(name).title} runs on the server, not in this page: you can leave the page "
           "or close the tab — it goes on, and the model is saved for every page to use.")
if job_id:
    # The bar moves twice a second anyway; its CSS transition would make the watching browser repaint it
    # continuously, taking CPU from the training on a small machine.
    st.html("<style>[data-testid='stProgress'] * { transition: none !important; }</style>")
    st.fragment(live_view, run_every=0.5 if active else None)(job_id)
