"""Model insight: what a dense network's first layer looks for, and the average image of each class."""

import streamlit as st

import ui
from mnistlib import evaluation, plots

ui.setup_page("Model insight", "🧠")
st.title("Inside the model")
name = ui.chosen_dataset()
data = ui.require_dataset(name)

st.subheader("The average image of each class")
st.image(plots.figure_png(plots.class_means_grid(evaluation.class_means(data.x_train, data.y_train),
                                                 data.class_names), dpi=90))
st.caption("Each picture is the pixel-by-pixel average of all training images of that class: where ink usually is. "
           "A classifier must cope with every image that differs from these averages.")

st.subheader("What the first layer looks for")
card = ui.model_picker(name, key="insight_model") or ui.require_model(name)
if card.spec.get("architecture") != "dense":
    st.info("This is a CNN: its first layer is 3×3 filters that slide over the image, not one 28×28 template per "
            "unit. Pick a Dense model to see templates.")
    st.stop()
model = ui.keras_model(card.id, card.created)
templates = evaluation.first_layer_templates(model.layers[1].get_weights()[0])
count = st.slider("Units to show", 8, min(64, len(templates)), min(32, len(templates)), 8, key="insight_units") \
    if len(templates) > 8 else len(templates)
st.image(plots.figure_png(plots.templates_grid(templates[:count]), dpi=80))
st.caption("Each square shows one hidden unit's 784 weights laid out as a 28×28 image: red pixels push the unit's "
           "sum up when they are inked, blue pixels push it down. The unit responds most to images that match its "
           "red parts — a template learned from the data, not designed by hand.")
