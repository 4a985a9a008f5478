"""The Train page's settings: the widgets, their values kept in the URL (so a link reproduces the page), and lesson
links that lock or hide chosen settings (?lock=optimizer,learning_rate&hide=architecture)."""

from dataclasses import dataclass, field

import streamlit as st

from dashboard.train import lab_preview, lab_settings
from dashboard.train.setting import FRACTIONS, Setting, tidy
from mnistlib import concepts, models, names
from mnistlib.training import TrainRequest

defaults = models.ModelSpec()

UNITS = [16, 32, 64, 128, 256, 512, 1024]
LEARNING_RATES = [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0]
BATCH_SIZES = [8, 16, 32, 64, 128, 256, 512]


# The settings by their name in the URL and in ?lock= / ?hide= (one vocabulary for both), in the page's order.
SETTINGS = {
    "architecture": Setting("train_architecture", str, models.ARCHITECTURES, "Architecture", "the architecture"),
    "layers": Setting("train_layers", int, range(1, 6), "Hidden Dense layers", "the number of hidden layers"),
    "units": Setting("train_units", int, UNITS, "Units per hidden layer", "the units per hidden layer"),
    "dropout": Setting("train_dropout", float, FRACTIONS, "Dropout", "the dropout"),
    "optimizer": Setting("train_optimizer", str, models.OPTIMIZERS, "Optimizer", "the optimizer"),
    "learning_rate": Setting("train_learning_rate", float, LEARNING_RATES, "Learning rate", "the learning rate"),
    "batch_size": Setting("train_batch_size", int, BATCH_SIZES, "Batch size", "the batch size"),
    "epochs": Setting("train_epochs", int, range(1, 51), "Epochs", "the number of epochs"),
    "validation_split": Setting("train_validation_split", float, FRACTIONS[:11], "Validation split",
                                "the validation split"),
    "seed": Setting("train_seed", int, range(0, 2**31), "Seed", "the seed"),
    **lab_settings.LAB_SETTINGS,  # the overfitting lab's: training images, label noise, L2, augment, early stopping
}
# The short names earlier links used; still read, in settings and in lock/hide lists, and replaced by the full ones.
ALIASES = {"arch": "architecture", "lr": "learning_rate", "batch": "batch_size", "val": "validation_split"}
ALIAS_OF = {name: alias for alias, name in ALIASES.items()}


@dataclass(frozen=True)
class Lesson:
    """What a lesson link fixed for this session: the values, and which controls are shown disabled or hidden."""

    fixed: dict = field(default_factory=dict)  # setting name → value
    locked: tuple = ()
    hidden: tuple = ()


def architecture_title(architecture: str) -> str:
    """How the page names an architecture."""
    return "Dense (the tutorial's)" if architecture == "dense" else "CNN"


def widget_key(name: str, architecture: str) -> str:
    """The widget key of a setting (dropout has one per architecture: their defaults differ)."""
    key = SETTINGS[name].key
    return f"{key}_{architecture}" if name == "dropout" else key


def default_values(architecture: str) -> dict:
    """The settings' defaults: the tutorial's network, 5 epochs (dropout: the architecture's default)."""
    return {"architecture": "dense", "layers": defaults.hidden_layers, "units": defaults.hidden_units,
            "dropout": models.DEFAULT_DROPOUT[architecture], "optimizer": defaults.optimizer,
            "learning_rate": defaults.learning_rate, "batch_size": defaults.batch_size, "epochs": 5,
            "validation_split": defaults.validation_split, "seed": defaults.seed, **lab_settings.DEFAULTS}


def values_of(spec: models.ModelSpec, epochs: int, lab: dict | None = None) -> dict:
    """A spec, its epochs and the lab's settings (lab_values()) as the settings' values, by setting name."""
    return {"architecture": spec.architecture, "layers": spec.hidden_layers, "units": spec.hidden_units,
            "dropout": tidy(spec.dropout), "optimizer": spec.optimizer, "learning_rate": tidy(spec.learning_rate),
            "batch_size": spec.batch_size, "epochs": int(epochs), "validation_split": tidy(spec.validation_split),
            "seed": spec.seed, **lab_settings.page_values(lab)}


def lab_values() -> dict:
    """The overfitting lab's settings as TrainRequest takes them (train_images None for all), after settings()."""
    return lab_settings.request_values(lab_settings.session_values())


def lesson() -> Lesson:
    """The lesson this session opened (empty when its link fixed nothing)."""
    return st.session_state.get("train_lesson", Lesson())


# ## Reading a link


def shown_text(text: str) -> str:
    """A link's text quoted for a message: cut to 40 characters, Markdown shown literally."""
    return names.markdown_escape(repr(text[:40]))


def _values_from_url() -> dict:
    """The valid settings the URL gives, by name (a full name wins over its alias); a warning for each bad one."""
    values = {}
    for name, setting in SETTINGS.items():
        alias = ALIAS_OF.get(name)
        parameter = alias if alias and alias in st.query_params and name not in st.query_params else name
        text = st.query_params.get(parameter)
        if text is None:
            continue
        try:
            values[name] = setting.parse(text)
        except ValueError:
            st.warning(f"The link's {parameter}={shown_text(text)} is not one of the choices here; using the default.")
    return values


def _names_from_url(parameter: str) -> list[str]:
    """The settings a ?lock= or ?hide= list names (comma-separated, or repeated), in the page's order; a warning for
    each name that is not a setting."""
    wanted = set()
    for text in st.query_params.get_all(parameter):
        for word in filter(None, (part.strip().lower() for part in text.split(","))):
            name = ALIASES.get(word, word)
            if name in SETTINGS:
                wanted.add(name)
            else:
                st.warning(f"The link's {parameter}={shown_text(word)} is not one of the settings here "
                           f"({', '.join(SETTINGS)}); ignoring it.")
    return [name for name in SETTINGS if name in wanted]


def settings_from_url() -> None:
    """On a session's first visit, the settings and lesson a shared link asks for (bad ones get a warning and the
    default); then the defaults for whatever is still unset."""
    if "train_settings_loaded" not in st.session_state:
        st.session_state["train_settings_loaded"] = True
        values = _values_from_url()
        architecture = values.get("architecture", "dense")
        for name, value in values.items():
            st.session_state[widget_key(name, architecture)] = value
        hidden = _names_from_url("hide")
        locked = [name for name in _names_from_url("lock") if name not in hidden]  # hidden is fixed too
        if locked or hidden:
            linked = {**default_values(architecture), **values}
            st.session_state["train_lesson"] = Lesson({name: linked[name] for name in locked + hidden},
                                                      tuple(locked), tuple(hidden))
    fixed = lesson().fixed
    architecture = fixed.get("architecture", st.session_state.get("train_architecture", "dense"))
    # The lesson's values win over anything the session holds (a forged widget value included).
    for name, value in fixed.items():
        st.session_state[widget_key(name, architecture)] = value
    for name, value in default_values(architecture).items():
        st.session_state.setdefault(widget_key(name, architecture), value)


def lesson_query(values: dict, locked=(), hidden=()) -> dict:
    """The query parameters of settings (those that differ from the defaults, and every locked or hidden one) and of
    the lock and hide lists, in the page's order (a hidden setting is not also listed as locked)."""
    hidden = [name for name in SETTINGS if name in hidden]
    locked = [name for name in SETTINGS if name in locked and name not in hidden]
    default = default_values(values["architecture"])
    query = {name: SETTINGS[name].text(values[name]) for name in SETTINGS
             if values[name] != default[name] or name in locked or name in hidden}
    return query | {parameter: ",".join(chosen) for parameter, chosen in (("lock", locked), ("hide", hidden)) if chosen}


def settings_to_url(values: dict) -> None:
    """Write the settings that differ from the defaults (and all a lesson fixes) to the URL, and the lesson's
    lists; remove the rest."""
    current = lesson()
    wanted = lesson_query(values, current.locked, current.hidden)
    for parameter in [*ALIASES, *SETTINGS, "lock", "hide"]:
        if parameter not in wanted:
            st.query_params.pop(parameter, None)
        else:
            st.query_params[parameter] = wanted[parameter]


# ## The controls


def _listed(phrases: list[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    return phrases[0] if len(phrases) == 1 else f"{', '.join(phrases[:-1])} and {phrases[-1]}"


def _shown(name: str, value) -> str:
    """A setting's value as the page shows it."""
    return architecture_title(value) if name == "architecture" else SETTINGS[name].text(value)


def lesson_note(current: Lesson) -> str | None:
    """One line on what the lesson fixed, e.g. "This lesson fixes the optimizer and the learning rate."."""
    parts = []
    if current.locked:
        parts.append("fixes " + _listed([SETTINGS[name].phrase for name in current.locked]))
    if current.hidden:
        parts.append("sets " + _listed([f"{SETTINGS[name].phrase} to {_shown(name, current.fixed[name])}"
                                        for name in current.hidden]))
    return f"🔒 This lesson {', and '.join(parts)}." if parts else None


def settings(data) -> tuple[models.ModelSpec | None, int]:
    """The settings widgets for a dataset (values from the session, first from the URL; a lesson's fixed values
    always); returns the spec (None when invalid) and the number of epochs."""
    num_classes = len(data.class_names)
    settings_from_url()
    current = lesson()
    if note := lesson_note(current):
        st.info(note)
    values = {}

    def control(name: str, widget, *arguments, architecture: str = "dense", **options):
        """Draw a setting's control unless the lesson hides it (disabled when it locks it); the lesson's value wins."""
        if name not in current.hidden:
            values[name] = widget(SETTINGS[name].title, *arguments, key=widget_key(name, architecture),
                                  disabled=name in current.locked, persist_state="session", **options)
        values[name] = current.fixed.get(name, values.get(name))
        return values[name]

    left, middle, right = st.columns(3)
    with left:
        architecture = control("architecture", st.radio, models.ARCHITECTURES, horizontal=True,
                               format_func=architecture_title, help=concepts.note("cnn"))
        control("layers", st.slider, 1, 5, help=concepts.note("units"))
        control("units", st.select_slider, UNITS, help=concepts.note("dense"))
        control("dropout", st.slider, 0.0, 0.9, step=0.05, architecture=architecture, help=concepts.note("dropout"))
    with middle:
        control("optimizer", st.selectbox, models.OPTIMIZERS, help=concepts.note("optimizer"))
        control("learning_rate", st.select_slider, LEARNING_RATES, help=concepts.learning_rate_note(num_classes))
        control("batch_size", st.select_slider, BATCH_SIZES, help=concepts.note("batch"))
    with right:
        control("epochs", st.number_input, 1, 50, help=concepts.note("epochs"))
        control("validation_split", st.slider, 0.0, 0.5, step=0.05, help=concepts.note("validation"))
        control("seed", st.number_input, 0, 2**31 - 1,
                help="The same seed and settings give the same starting weights, the same order of the training "
                     "images and the same dropout, so a run can be repeated.")
    lab_settings.controls(control)
    values.update(dropout=tidy(values["dropout"]), learning_rate=tidy(values["learning_rate"]),
                  validation_split=tidy(values["validation_split"]), **lab_settings.tidied(values))
    settings_to_url(values)
    st.caption(concepts.steps_note(len(data.y_train), values["validation_split"], int(values["batch_size"])))
    lab_settings.captions(len(data.y_train), values["validation_split"], values, int(values["batch_size"]))
    try:
        spec = models.ModelSpec(architecture=architecture, hidden_units=int(values["units"]),
                                hidden_layers=int(values["layers"]), dropout=values["dropout"],
                                optimizer=values["optimizer"], learning_rate=values["learning_rate"],
                                batch_size=int(values["batch_size"]), validation_split=values["validation_split"],
                                seed=int(values["seed"]))
        # The request checks the lab's settings against the dataset and the batch size, as the worker will.
        TrainRequest(data.name, spec, int(values["epochs"]), **lab_settings.request_values(values))
    except ValueError as error:
        st.error(str(error))
        return None, int(values["epochs"])
    lab_preview.previews(data, values["validation_split"], int(values["train_images"]) or None,
                         values["label_noise"], values["augment"], int(values["seed"]))
    return spec, int(values["epochs"])
