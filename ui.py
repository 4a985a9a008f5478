"""The dashboard's shared pieces: page setup and sidebar, choices kept in the URL, cached loaders."""

from dataclasses import dataclass

import numpy as np
import streamlit as st

from mnistlib import config, datasets, store

DEFAULT_DATASET = "mnist"


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
    PageEntry("pages/home.py", "Home", "🔢", "", "what MNIST Lab teaches, and a quick start", default=True),
    PageEntry("pages/dataset.py", "Dataset", "🗂️", "Dataset",
              "the images and labels, and why they are split into training and test sets"),
    PageEntry("pages/train.py", "Train", "🏋️", "Train", "choose a network and settings, train it and watch it learn"),
    PageEntry("pages/predict.py", "Predict", "🔮", "Predict",
              "each test image with its predicted label and probability histogram"),
    PageEntry("pages/mistakes.py", "Mistakes", "🔍", "Mistakes",
              "the confusion matrix and the images behind each kind of mistake"),
    PageEntry("pages/draw.py", "Draw", "✏️", "Draw", "draw your own digit or upload an image and see what the model says"),
    PageEntry("pages/compare.py", "Compare", "⚖️", "Compare", "two models side by side, and where they disagree"),
    PageEntry("pages/insight.py", "Model insight", "🧠", "Model_insight",
              "what the first layer looks for, and the average image of each class"),
]


def page_entry(path: str) -> PageEntry:
    """The entry of a page by its file path."""
    return next(page for page in PAGES if page.path == path)


# ## Page setup and sidebar


def setup_page(title: str, icon: str) -> None:
    """Configure the page and draw the sidebar every page shares."""
    st.set_page_config(page_title=f"{title} · MNIST Lab", page_icon=icon, layout="wide")
    sidebar()


def sidebar() -> None:
    """Current dataset and model, and the state of this user's training job."""
    with st.sidebar:
        name = chosen_dataset()
        st.markdown(f"**Dataset:** {datasets.info(name).title}")
        card = current_model_card(name)
        st.markdown(f"**Model:** {card.name if card else 'none yet'}")
        job_id = st.session_state.get("job_id")
        if job_id:
            state = job_state(job_id)
            if state is not None and state.status in ("queued", "starting", "running"):
                st.caption(f"Training: {state.status}" + (f", epoch {state.epoch}/{state.epochs}" if state.epoch else ""))
        if config.subset() == "small":
            st.caption("Using the small 1,000/200 subset (MNISTLIB_SUBSET=small).")


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
    """The dataset this user is working with (shared by all pages, kept in ?dataset=)."""
    return _choice_from_url("dataset", datasets.available(), DEFAULT_DATASET)


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
    st.radio("Dataset", names, key=key, format_func=lambda name: datasets.info(name).title,
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


@st.cache_resource(show_spinner="Loading the dataset…")
def load_dataset(name: str, subset: str) -> datasets.Dataset:
    """The verified dataset, loaded once per server and shared (its arrays are read-only)."""
    return datasets.load(name, subset=subset)


def require_dataset(name: str, subset: str | None = None) -> datasets.Dataset:
    """The dataset, or a message with a fetch button and st.stop() when it is missing or damaged."""
    subset = subset or config.subset()
    try:
        return load_dataset(name, subset)
    except (datasets.DataMissingError, datasets.DataCorruptError) as error:
        st.error(str(error))
        if st.button(f"Fetch {datasets.info(name).title} now", key="fetch_dataset"):
            with st.spinner("Fetching and verifying…"):
                try:
                    datasets.fetch(name)
                except (RuntimeError, OSError) as fetch_error:
                    st.error(str(fetch_error))
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


def list_models(dataset: str) -> list:
    """Readable stored models of a dataset, newest first (damaged ones are reported once)."""
    cards, broken = [], []
    for entry in store.list_models(dataset=dataset):
        (broken if isinstance(entry, store.BrokenModel) else cards).append(entry)
    if broken:
        st.caption(f"{len(broken)} stored model(s) could not be read and are not listed.")
    return cards


def current_model_card(dataset: str):
    """The model this user looks at (?model=), else the newest of the dataset, else None."""
    cards = list_models(dataset)
    ids = [card.id for card in cards]
    chosen = _choice_from_url("model", ids, ids[0] if ids else None)
    if chosen not in ids:
        chosen = ids[0] if ids else None
        st.session_state["model"] = chosen
    return cards[ids.index(chosen)] if chosen else None


def model_picker(dataset: str, key: str = "model_choice", label: str = "Model"):
    """A select box of stored models (newest first, with accuracy); returns the chosen card."""
    cards = list_models(dataset)
    if not cards:
        return None
    by_id = {card.id: card for card in cards}
    current = current_model_card(dataset)
    st.session_state[key] = current.id

    def pick():
        st.session_state["model"] = st.session_state[key]

    st.selectbox(label, list(by_id), key=key, format_func=lambda model_id: by_id[model_id].label(), on_change=pick)
    return by_id[st.session_state[key]]


# ## Training jobs (the work happens in worker processes, never in this server process)


@st.cache_resource(show_spinner=False)
def trainer():
    """The server's one Trainer, shared by every session (its queue is machine-wide)."""
    from mnistlib import training

    return training.get_trainer()


def job_state(job_id: str):
    """A snapshot of a job of this server, or None if the server does not know it."""
    job = trainer().job(job_id)
    return job.snapshot() if job else None


def start_training(request) -> str:
    """Submit a training request for this user; remembers the job in the session and the URL."""
    job = trainer().submit(request)
    st.session_state["job_id"] = job.id
    st.query_params["job"] = job.id
    return job.id


def require_model(dataset: str):
    """The chosen model's card, or what to do (quick start / Train page) and st.stop()."""
    card = current_model_card(dataset)
    if card is not None:
        return card
    st.info(f"No trained model for {datasets.info(dataset).title} yet. Train one on the Train page, "
            "or start the default model here (it takes a few seconds).")
    quick_start_button(dataset, key="quick_start_missing_model")
    st.stop()


def quick_start_button(dataset: str, key: str = "quick_start") -> None:
    """One click: train the seed's default model for 5 epochs on dataset (in a worker process)."""
    from mnistlib.models import ModelSpec
    from mnistlib.training import TrainRequest

    if st.button(f"Quick start: train the default model on {datasets.info(dataset).title}", key=key,
                 type="primary"):
        start_training(TrainRequest(dataset=dataset, spec=ModelSpec(), epochs=5, subset=config.subset()))
        st.switch_page("pages/train.py")


def page_link(page: str, label: str, query_params: dict | None = None) -> None:
    """A link to another page; a plain link when the page cannot be resolved (e.g. a page run on its own)."""
    try:
        st.page_link(page, label=label, query_params=query_params)
    except Exception:  # StreamlitPageNotFoundError outside the full app (AppTest of a single page)
        url_name = page_entry(page).url_path
        query = "&".join(f"{key}={value}" for key, value in (query_params or {}).items())
        st.markdown(f"[{label}](/{url_name}{'?' + query if query else ''})")
