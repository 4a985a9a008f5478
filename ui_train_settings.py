"""The Train page's settings: the widgets, their values kept in the URL (so a link reproduces the page)."""

import streamlit as st

from mnistlib import concepts, models

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


def settings(data) -> tuple[models.ModelSpec | None, int]:
    """The settings widgets for a dataset (values from the session, first from the URL); returns the spec (None
    when invalid) and the number of epochs."""
    num_classes = len(data.class_names)
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
