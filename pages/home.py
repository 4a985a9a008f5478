"""MNIST Lab home: what it teaches, the flow through the pages, and a one-click quick start."""

import streamlit as st

import ui
from mnistlib import datasets

ui.setup_page("Home", "🔢")

st.title("MNIST Lab")
st.markdown(
    "Learn how a neural network classifies images by doing it: look at the data, train a network "
    "**live**, check its predictions image by image, and find out why it makes the mistakes it makes."
)

name = ui.dataset_selector(key="home_dataset")
info = datasets.info(name)
st.caption(f"{info.title}: 70,000 grey 28×28 images of {info.subject} in 10 classes — "
           f"{', '.join(info.class_names)}.")

st.subheader("The flow")
for page in ui.PAGES[1:]:
    left, right = st.columns([1, 3])
    with left:
        ui.page_link(page.path, f"{page.icon} {page.title}")
    right.markdown(page.what)

st.subheader("Quick start")
cards = ui.list_models(name)
if cards:
    st.success(f"{len(cards)} trained model(s) for {info.title}; the newest is **{cards[0].label()}**.")
st.markdown("Train the default network — `Flatten → Dense(128, relu) → Dense(10, softmax)`, adam, 5 epochs — "
            "in a few seconds, so every page has a model to show.")
ui.quick_start_button(name, key="home_quick_start")
