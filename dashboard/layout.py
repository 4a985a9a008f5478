"""The dashboard's page pieces: the pages named once, page setup and the sidebar every page shares, links."""

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from dashboard import identity, jobs, loaders, privacy, url_choices
from mnistlib import config, datasets, names
from mnistlib.names import as_text

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
    url_choices.chosen_dataset()  # here, so that a message about the link's dataset shows in the page, not the sidebar
    sidebar()


def sidebar() -> None:
    """Who you are, the current dataset and model, and the state of this user's training job."""
    with st.sidebar:
        identity.sidebar_section()
        name = url_choices.chosen_dataset()
        st.markdown(f"**Dataset:** {as_text(datasets.info(name).title)}")
        card = loaders.current_model_card(name)
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


# ## Links between pages


def page_link(page: str, label: str, query_params: dict | None = None) -> None:
    """A link to another page; a plain link when the page cannot be resolved (e.g. a page run on its own)."""
    try:
        st.page_link(page, label=label, query_params=query_params)
    except Exception:  # StreamlitPageNotFoundError outside the full app (AppTest of a single page)
        url_name = page_entry(page).url_path
        query = "&".join(f"{key}={value}" for key, value in (query_params or {}).items())
        st.markdown(f"[{label}](/{url_name}{'?' + query if query else ''})")
