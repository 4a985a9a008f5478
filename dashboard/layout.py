"""The dashboard's shared pieces: page setup and sidebar, choices kept in the URL, cached loaders."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

from dashboard import identity, jobs, privacy
from mnistlib import concepts, config, datasets, names, store, user_datasets
from mnistlib.names import as_text

DEFAULT_DATASET = "mnist"
REMOVED_DATASET = ("The dataset this model was trained on has been removed, so the model cannot be opened here (it "
                   "stays on the class board).")


# ## The pages, named once: app.py builds the navigation from this list, the home page the flow


@dataclass(frozen=True)
class PageEntry:
    """One page of the app: its file, sidebar title and icon, URL path and what a student does there."""

    path: str
    title: str
    icon: str
    url_path: str
    what: str
    default: bool = False


PAGES = [
    PageEntry("app_pages/home.py", "Home", "🔢", "", "what MNIST Lab teaches, and a quick start", default=True),
    PageEntry("app_pages/dataset.py", "Dataset", "🗂️", "Dataset",
              "the images and labels, and why they are split into training and test sets"),
    PageEntry("app_pages/own_data.py", "Your data", "📤", "Your_data",
              "add a dataset of your own images (a zip of class folders) and train on it like on MNIST"),
    PageEntry("app_pages/train.py", "Train", "🏋️", "Train", "choose a network and settings, train it and watch it learn"),
    PageEntry("app_pages/predict.py", "Predict", "🔮", "Predict",
              "each test image with its predicted label and probability histogram"),
    PageEntry("app_pages/mistakes.py", "Mistakes", "🔍", "Mistakes",
              "the confusion matrix and the images behind each kind of mistake"),
    PageEntry("app_pages/draw.py", "Draw", "✏️", "Draw", "draw your own digit or upload an image and see what the model says"),
    PageEntry("app_pages/compare.py", "Compare", "⚖️", "Compare", "two models side by side, and where they disagree"),
    PageEntry("app_pages/insight.py", "Model insight", "🧠", "Model_insight",
              "the average image of each class, what the first layer looks for, and where the network puts "
              "each test image"),
    PageEntry("app_pages/board.py", "Class board", "🏆", "Board",
              "every model of the class in one table: who trained what, and how well it did"),
]


def page_entry(path: str) -> PageEntry:
    """The entry of a page by its file path."""
    return next(page for page in PAGES if page.path == path)


# ## Page setup and sidebar

ACCESSIBILITY_CSS = Path(__file__).with_name("accessibility.css")


def setup_page(title: str, icon: str) -> None:
    """Configure the page and draw the sidebar every page shares."""
    st.set_page_config(page_title=f"{title} · MNIST Lab", page_icon=icon, layout="wide")
    st.html(ACCESSIBILITY_CSS)  # readable locked controls, reduced motion (see the file)
    chosen_dataset()  # here, so that a message about the link's dataset shows in the page, not the sidebar
    sidebar()


def sidebar() -> None:
    """Who you are, the current dataset and model, and the state of this user's training job."""
    with st.sidebar:
        identity.sidebar_section()
        name = chosen_dataset()
        st.markdown(f"**Dataset:** {as_text(datasets.info(name).title)}")
        card = current_model_card(name)
        st.markdown(f"**Model:** {names.markdown_escape(card.name) if card else 'none yet'}")
        job_id = st.session_state.get("job_id")
        if job_id:
            state = jobs.job_state(job_id)
            if state is not None and state.status in ("queued", "starting", "running", "paused"):
                st.caption(f"Training: {state.status}" + (f", epoch {state.epoch}/{state.epochs}" if state.epoch else ""))
        if config.subset() == "small":
            st.caption("Practice mode: MNIST and Fashion-MNIST are cut to 1,000 training and 200 test images, so "
                       "training takes seconds.")
        privacy.what_is_stored()


# ## Choices kept in the URL, so a shared link opens the same view


def _choice_from_url(key: str, valid, default):
    """The session's value for key, first taken from the query parameter when it is valid."""
    if key not in st.session_state:
        wanted = st.query_params.get(key)
        if wanted is not None and wanted not in valid:
            st.warning(f"The link asks for {key} {wanted!r}, which does not exist here; showing the default instead.")
            wanted = None
        st.session_state[key] = wanted if wanted is not None else default
    value = st.session_state[key]
    if value is not None:
        st.query_params[key] = str(value)
    return value


def chosen_dataset() -> str:
    """The dataset this user is working with (shared by all pages, kept in ?dataset=); a dataset removed meanwhile
    gives way to the default, with a message."""
    available = datasets.available()
    removed = st.session_state.get("dataset")
    if "dataset" in st.session_state and removed not in available:
        model = _entry(st.session_state.get("model"))
        instead = f"showing {as_text(datasets.info(DEFAULT_DATASET).title)} instead."
        st.warning(f"{REMOVED_DATASET} Now {instead}" if model is not None and model.dataset == removed else
                   f"The dataset {names.markdown_escape(str(removed))} has been removed; {instead}")
        st.session_state["dataset"] = DEFAULT_DATASET
        st.session_state.pop("model", None)
        st.query_params.pop("model", None)
    return _choice_from_url("dataset", available, DEFAULT_DATASET)


def dataset_selector(key: str = "dataset_choice") -> str:
    """A control to switch dataset; the choice is written to the session and the URL."""
    names = datasets.available()

    def switch():
        st.session_state["dataset"] = st.session_state[key]
        st.session_state.pop("model", None)
        st.query_params.pop("model", None)

    current = chosen_dataset()
    st.session_state.setdefault(key, current)
    if st.session_state[key] != current:
        st.session_state[key] = current
    st.radio("Dataset", names, key=key, format_func=lambda name: as_text(datasets.info(name).title),
             horizontal=True, on_change=switch)
    return chosen_dataset()


def chosen_image_index(size: int, key: str = "image") -> int:
    """A test-image index from the session or ?image= (0 ≤ index < size); bad links get a message."""
    if key not in st.session_state:
        text = st.query_params.get(key, "0")
        try:
            index = int(text)
            if not 0 <= index < size:
                raise ValueError
        except ValueError:
            st.warning(f"Image {text!r} in the link is not a test image number (0 to {size - 1}); showing image 0.")
            index = 0
        st.session_state[key] = index
    index = min(max(int(st.session_state[key]), 0), size - 1)
    st.query_params[key] = str(index)
    return index


# ## Cached loaders: shared, read-only resources and per-model arrays


@st.cache_resource(show_spinner="Loading the dataset…", max_entries=8)
def _loaded_dataset(name: str, subset: str, version: str) -> datasets.Dataset:
    return datasets.load(name, subset=subset)


def load_dataset(name: str, subset: str) -> datasets.Dataset:
    """The verified dataset, loaded once per server and shared (its arrays are read-only); keyed by when it was
    added and its checksums too, so a dataset removed and added again under the same name is loaded afresh."""
    entry = datasets.info(name)
    return _loaded_dataset(name, subset, entry.created + "".join(sorted(entry.sha256.values())))


load_dataset.clear = _loaded_dataset.clear  # forget every loaded dataset, like a cached function's clear()


def require_dataset(name: str, subset: str | None = None) -> datasets.Dataset:
    """The dataset, or a message with a fetch button and st.stop() when it is missing or damaged."""
    subset = subset or config.subset()
    try:
        return load_dataset(name, subset)
    except (datasets.DataMissingError, datasets.DataCorruptError) as error:
        # The library's messages name shell commands for the CLI; the page says what to click instead.
        entry = datasets.info(name)
        if subset == "small" or getattr(entry, "custom", False):
            st.error(f"The files of {as_text(entry.title)} on this server are damaged, so it cannot be used. "
                     + ("Remove this dataset and add your images again." if getattr(entry, "custom", False)
                        else "Ask whoever runs MNIST Lab to reinstall it."))
            st.stop()
        if isinstance(error, datasets.DataMissingError):
            st.error(f"{as_text(entry.title)} is not on this server yet. Click *Fetch {as_text(entry.title)} now* below to download "
                     "and check it (this can take a minute).")
        else:
            st.error(f"A file of {as_text(entry.title)} on this server is damaged (it does not match the checked original). "
                     f"Click *Fetch {as_text(entry.title)} now* below to fetch it again.")
        if st.button(f"Fetch {as_text(entry.title)} now", key="fetch_dataset"):
            with st.spinner("Fetching and checking…"):
                try:
                    datasets.fetch(name)
                except (RuntimeError, OSError) as fetch_error:
                    st.error(f"{as_text(entry.title)} could not be fetched: none of its sources could be reached from this "
                             "server. Check the server's internet connection, then click the button again.")
                    with st.expander("Details for whoever runs the server"):
                        st.caption(str(fetch_error))
                    st.stop()
            load_dataset.clear()
            st.rerun()
        st.stop()


@st.cache_data(show_spinner=False, max_entries=64)
def model_probabilities(model_id: str, created: str) -> np.ndarray:
    """Test-set probabilities after each epoch, (epochs, M, 10) float32 (created keys the cache)."""
    return store.load_probabilities(model_id)


@st.cache_resource(show_spinner="Loading the model…", max_entries=16)
def keras_model(model_id: str, created: str):
    """The stored Keras model, loaded once per server and shared (never trained further)."""
    return store.load_model(model_id)


SCOPES = {"mine": "mine", "class": "the whole class", "teacher": "the teacher's"}


def list_models(dataset: str, scope: str = "class") -> list:
    """Stored models of a dataset from the index (this user's first, then newest first), as store.ModelEntry;
    scope "mine", "class" or "teacher". Models of an earlier dataset of the same name (removed, then added again)
    are left out; with dataset None (every dataset) they are listed."""
    actor = identity.current_actor()
    viewer = actor.key if actor else ""
    if scope == "mine" and not viewer:
        return []
    entries = store.entries(dataset, viewer=viewer,
                            scope=f"owner:{store.TEACHER.key}" if scope == "teacher" else scope)
    try:
        added = datasets.info(dataset).created if dataset is not None else ""
    except (ValueError, datasets.DataCorruptError):  # removed or damaged: nothing of it opens
        return entries
    return [entry for entry in entries if user_datasets.trained_on(dataset, entry.created, added)] if added else entries


def open_card(model_id: str):
    """The full card of a stored model, or None with a message when its files are damaged or gone, or its dataset
    has been removed."""
    try:
        card = store.load_card(model_id)
    except store.CorruptModelError:
        st.error(concepts.DAMAGED_MODEL)
    except store.ModelNotFoundError:
        st.warning("This model has just been deleted: pick another one.")
    else:
        if user_datasets.trained_on(card.dataset, card.created):
            return card
        st.warning(REMOVED_DATASET)
    return None


def _opens(entry) -> bool:
    """Was this indexed model trained on its dataset as stored now (not on one removed since)?"""
    return user_datasets.trained_on(entry.dataset, entry.created)


def current_model_card(dataset: str):
    """The model this user looks at (?model=), else their newest of the dataset, else the class's newest, else
    None; the full card (store.ModelCard)."""
    if "model" not in st.session_state:
        wanted = st.query_params.get("model")
        chosen = None
        if wanted is not None:
            entry = _entry(wanted)
            if entry is not None and not _opens(entry):
                st.warning(f"{REMOVED_DATASET} Showing the default instead.")
            elif entry is None or entry.dataset != dataset:
                st.warning(f"The link asks for model {names.markdown_escape(wanted[:40])}, which is not stored here "
                           "for this dataset; showing the default instead.")
            else:
                chosen = wanted
        st.session_state["model"] = chosen
    chosen = st.session_state["model"]
    if chosen is not None and (entry := _entry(chosen)) is not None and entry.dataset == dataset \
            and not _opens(entry):  # chosen in a picker: a model of an earlier dataset of the same name
        st.warning(f"{REMOVED_DATASET} Showing the default instead.")
        chosen = None
    if chosen is None or (entry := _entry(chosen)) is None or entry.dataset != dataset:
        newest = list_models(dataset)  # the viewer's own first
        chosen = newest[0].id if newest else None
        st.session_state["model"] = chosen
    if chosen is None:
        st.query_params.pop("model", None)
        return None
    st.query_params["model"] = chosen
    return open_card(chosen)


def _entry(model_id):
    """The indexed card of a stored model (None for anything that is not a stored model's id)."""
    try:
        return store.indexed_card(store.validate_id(model_id))
    except ValueError:
        return None


def model_picker(dataset: str, key: str = "model_choice", label: str = "Model"):
    """Whose models to list (mine / the whole class / the teacher's) and a select box of them, the user's own
    first; returns the chosen model's card, or None when there is none."""
    current = current_model_card(dataset)
    if current is None:
        return None
    actor = identity.current_actor()
    scope_key = f"{key}_scope"
    if scope_key not in st.session_state:
        mine = actor is not None and any(owner.key == actor.key for owner in store.listing.owners(current.id))
        st.session_state[scope_key] = "mine" if mine else "class"
    left, right = st.columns([1, 3])
    scope = left.radio("Show", list(SCOPES), key=scope_key, format_func=SCOPES.get, horizontal=True,
                       help="Your own models, every model of the class, or the ones the teacher trained.")
    entries = list_models(dataset, scope)
    by_id = {entry.id: entry for entry in entries}
    if current.id not in by_id:  # the model open now (e.g. from a link) stays pickable
        by_id = {current.id: None, **by_id}
    st.session_state[key] = current.id

    def pick():
        st.session_state["model"] = st.session_state[key]

    def label_of(model_id: str) -> str:
        entry = by_id[model_id]
        return entry.label() + ("" if entry.mine else f" · by {entry.trained_by or 'someone'}") if entry else \
            current.label()

    right.selectbox(label, list(by_id), key=key, format_func=label_of, on_change=pick)
    broken = store.broken()
    if broken:
        right.caption(f"{len(broken)} saved model(s) are damaged and not listed (the teacher can delete them on the "
                      "Class board).")
    if not entries and scope == "mine":
        right.caption("You have no models for this dataset yet: train one on the Train page.")
    return current if st.session_state[key] == current.id else open_card(st.session_state[key])


def require_model(dataset: str):
    """The chosen model's card, or what to do (quick start / Train page) and st.stop()."""
    card = current_model_card(dataset)
    if card is not None:
        return card
    st.info(f"No trained model for {as_text(datasets.info(dataset).title)} yet. Train one on the Train page, "
            "or train the default model here with one click (it takes a few seconds).")
    jobs.quick_start_button(dataset, key="quick_start_missing_model")
    st.stop()


def page_link(page: str, label: str, query_params: dict | None = None) -> None:
    """A link to another page; a plain link when the page cannot be resolved (e.g. a page run on its own)."""
    try:
        st.page_link(page, label=label, query_params=query_params)
    except Exception:  # StreamlitPageNotFoundError outside the full app (AppTest of a single page)
        url_name = page_entry(page).url_path
        query = "&".join(f"{key}={value}" for key, value in (query_params or {}).items())
        st.markdown(f"[{label}](/{url_name}{'?' + query if query else ''})")
