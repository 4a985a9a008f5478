"""MNIST Lab home: what it teaches, the flow through the pages, and a one-click quick start."""

import streamlit as st

from dashboard import challenges as challenge_ui
from dashboard import jobs, layout, loaders, url_choices
from dashboard import overfitting_lesson as lesson_ui
from dashboard.join import join_section
from mnistlib import datasets, names
from mnistlib.models import ModelSpec
from mnistlib.names import as_text

layout.setup_page("Home", "🔢")

st.title("MNIST Lab")
st.markdown(
    "Learn how a neural network classifies images by doing it: look at the data, train a network "
    "**live**, check its predictions image by image, and explore the mistakes it makes."
)

name = url_choices.dataset_selector(key="home_dataset")
info = datasets.info(name)
if name in datasets.REGISTRY:
    images = datasets.FULL_SHAPES["x_train"][0] + datasets.FULL_SHAPES["x_test"][0]
    st.caption(f"{as_text(info.title)}: {images:,} grey 28×28 images of {info.subject} in {len(info.class_names)} classes — "
               f"{as_text(', '.join(info.class_names))}.")
else:  # the class's own dataset
    added = f"added by {info.added_by} on the Your data page" if info.added_by else "added with the command line"
    st.caption(names.markdown_escape(f"{info.title}: {info.subject}, made 28×28 and grey, in "
                                     f"{len(info.class_names)} classes — {', '.join(info.class_names)}; {added}."))

challenge_ui.banner(name)

st.subheader("The flow")
for page in layout.PAGES[1:]:
    left, right = st.columns([1, 3])
    with left:
        layout.page_link(page.path, f"{page.icon} {page.title}")
    right.markdown(page.what)

st.subheader("Quick start")
cards = loaders.list_models(name)
if cards:
    st.success(f"{len(cards)} trained model(s) for {as_text(info.title)}; the newest is **{as_text(cards[0].label())}**.")
default = ModelSpec()
st.markdown(f"Train the default network — `Flatten → Dense({default.hidden_units}, relu) → "
            f"Dense({len(info.class_names)}, softmax)`, {default.optimizer}, 5 epochs — in a few seconds, so every "
            "page has a model to show.")
jobs.quick_start_button(name, key="home_quick_start")

lesson_ui.section(name)

join_section()
