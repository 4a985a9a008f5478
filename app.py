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
steps = [
    ("pages/1_Dataset.py", "1 · Dataset", "the images and labels, and why they are split into training and test sets"),
    ("pages/2_Train.py", "2 · Train", "choose a network and settings, train it and watch the curves grow"),
    ("pages/3_Predict.py", "3 · Predict", "each test image with its predicted label and probability histogram"),
    ("pages/4_Mistakes.py", "4 · Mistakes", "the confusion matrix and the images behind each kind of mistake"),
    ("pages/5_Draw.py", "5 · Draw", "draw your own digit or upload an image and see what the model says"),
    ("pages/6_Compare.py", "Compare", "two models side by side, and where they disagree"),
    ("pages/7_Model_insight.py", "Model insight", "what the first layer looks for, and the average image of each class"),
]
for page, label, what in steps:
    left, right = st.columns([1, 3])
    with left:
        ui.page_link(page, label)
    right.markdown(what)

st.subheader("Quick start")
cards = ui.list_models(name)
if cards:
    st.success(f"{len(cards)} trained model(s) for {info.title}; the newest is **{cards[0].label()}**.")
st.markdown("Train the default network — `Flatten → Dense(128, relu) → Dense(10, softmax)`, adam, 5 epochs — "
            "in a few seconds, so every page has a model to show.")
ui.quick_start_button(name, key="home_quick_start")
