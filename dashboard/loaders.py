"""Cached loaders (datasets, models, their probabilities) and the model a page opens: ?model=, the picker."""

import numpy as np
import streamlit as st

from dashboard import identity, jobs
from mnistlib import concepts, config, datasets, names, store, user_datasets
from mnistlib.names import as_text

REMOVED_DATASET = ("The dataset this model was trained on has been removed, so the model cannot be opened here (it "
                   "stays on the class board).")


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
            entry = indexed_entry(wanted)
            if entry is not None and not _opens(entry):
                st.warning(f"{REMOVED_DATASET} Showing the default instead.")
            elif entry is None or entry.dataset != dataset:
                st.warning(f"The link asks for model {names.markdown_escape(wanted[:40])}, which is not stored here "
                           "for this dataset; showing the default instead.")
            else:
                chosen = wanted
        st.session_state["model"] = chosen
    chosen = st.session_state["model"]
    if chosen is not None and (entry := indexed_entry(chosen)) is not None and entry.dataset == dataset \
            and not _opens(entry):  # chosen in a picker: a model of an earlier dataset of the same name
        st.warning(f"{REMOVED_DATASET} Showing the default instead.")
        chosen = None
    if chosen is None or (entry := indexed_entry(chosen)) is None or entry.dataset != dataset:
        newest = list_models(dataset)  # the viewer's own first
        chosen = newest[0].id if newest else None
        st.session_state["model"] = chosen
    if chosen is None:
        st.query_params.pop("model", None)
        return None
    st.query_params["model"] = chosen
    return open_card(chosen)


def indexed_entry(model_id):
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

