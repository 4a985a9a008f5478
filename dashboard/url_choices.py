"""Choices kept in the URL, so a shared link opens the same view: the dataset, a test image."""

import streamlit as st

from dashboard import loaders
from mnistlib import datasets, names
from mnistlib.names import as_text

DEFAULT_DATASET = "mnist"


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
        model = loaders.indexed_entry(st.session_state.get("model"))
        instead = f"showing {as_text(datasets.info(DEFAULT_DATASET).title)} instead."
        st.warning(f"{loaders.REMOVED_DATASET} Now {instead}" if model is not None and model.dataset == removed else
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

