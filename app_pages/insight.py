"""Model insight: the average image of each class, what a network's first layer looks for, and where its last
hidden layer puts each test image (the hidden-space map)."""

import numpy as np
import streamlit as st

from dashboard import insight as insight_ui
from dashboard import layout, loaders, url_choices
from mnistlib import concepts, evaluation, plots, store

MAX_UNITS = 64  # first-layer templates shown at most (a 128-unit layer would be a wall of squares)


@st.cache_data(show_spinner="Averaging the training images…", max_entries=4)
def class_means_png(dataset: str, subset: str) -> bytes:
    """The average training image of each class, as one PNG row."""
    data = loaders.load_dataset(dataset, subset)
    means = evaluation.class_means(data.x_train, data.y_train, len(data.class_names))
    return plots.figure_png(plots.class_means_grid(means, data.class_names), dpi=90)


def _first_layer(model, kind: str):
    """The model's first layer of a kind ("Dense" or "Conv2D"), or None (until mnistlib.models offers this)."""
    return next((layer for layer in model.layers if type(layer).__name__ == kind), None)


def _conv_filters(kernel) -> np.ndarray:
    """A Conv2D kernel (3, 3, 1, filters) as images (filters, 3, 3) (until mnistlib.evaluation offers this)."""
    return np.moveaxis(np.asarray(kernel, np.float32)[:, :, 0, :], -1, 0)


@st.cache_data(show_spinner="Drawing the weights…", max_entries=32)
def templates_png(model_id: str, created: str, count: int) -> bytes:
    """The first count templates of a dense model's first layer, as a PNG grid."""
    kernel = _first_layer(loaders.keras_model(model_id, created), "Dense").get_weights()[0]  # (784, units)
    return plots.figure_png(plots.templates_grid(evaluation.first_layer_templates(kernel)[:count]), dpi=80)


@st.cache_data(show_spinner="Drawing the filters…", max_entries=16)
def filters_png(model_id: str, created: str) -> bytes:
    """A CNN's first-layer 3×3 filters as a PNG grid."""
    kernel = _first_layer(loaders.keras_model(model_id, created), "Conv2D").get_weights()[0]  # (3, 3, 1, filters)
    filters = _conv_filters(kernel)
    return plots.figure_png(plots.templates_grid(filters, columns=16, titles=[f"{k}" for k in range(len(filters))]),
                            dpi=60)


layout.setup_page("Model insight", "🧠")
st.title("Inside the model")
name = url_choices.chosen_dataset()
data = loaders.require_dataset(name)

# ## What the data looks like on average (no model needed)

st.subheader("The average image of each class")
st.image(class_means_png(name, data.subset), alt=f"The average image of each of the {len(data.class_names)} classes")
counts = evaluation.class_counts(data.y_train, len(data.class_names))
per_class = f"{counts.min():,}" if counts.min() == counts.max() else f"{counts.min():,} to {counts.max():,}"
st.caption(f"Each picture is the pixel-by-pixel average of one class's training images ({per_class} per class, "
           f"{len(data.y_train):,} in all): bright where that class usually has ink, dark where it rarely does, "
           "blurred where the images of a class differ from one another. A model that compared an image with these averages would "
           "already get many right; the trained network learns sharper, more useful patterns.")

# ## What the first layer looks for

st.subheader("What the first layer looks for")
card = loaders.model_picker(name, key="insight_model") or loaders.require_model(name)


def weights_or_stop(draw, *args) -> bytes:
    """The PNG of a model's weights, or an error for a damaged model file and st.stop()."""
    try:
        return draw(*args)
    except store.CorruptModelError:
        st.error(concepts.DAMAGED_MODEL)
        st.stop()


@st.fragment
def dense_templates(units: int) -> None:
    shown = units
    if units > 1:
        shown = st.slider("Units to show", 1, min(MAX_UNITS, units), min(32, units), key="insight_units",
                          help=f"The first {MAX_UNITS} at most of this layer's {units} units.")
    st.image(weights_or_stop(templates_png, card.id, card.created, shown),
             alt=f"The first {shown} hidden units' weights, each as a 28×28 image in red and blue")
    st.caption(f"Showing {shown} of the first Dense layer's {units} units. Each square is one hidden unit's 784 weights "
               "laid out as a 28×28 image: **red** pixels raise the unit's sum when they are inked, **blue** pixels "
               "lower it, white ones do not matter. The unit responds most to images whose ink falls on its red "
               "parts — a template learned from the data, not designed by hand. Speckled noise is what is left of the "
               "random starting weights: a unit moves away from them only as far as training pushed it, so a model "
               "trained briefly or on few images (the small subset) shows mostly noise.")
    with st.expander("Why 28×28?"):
        st.markdown(concepts.note("flatten") + "\n\n" + concepts.note("dense"))


architecture = card.spec.get("architecture", "dense")
if architecture == "dense":
    dense_templates(int(card.spec.get("hidden_units", 128)))
elif architecture == "cnn":
    st.info("This is a CNN: its first layer is not one 28×28 template per unit but small **3×3 filters** that "
            "slide over the whole image, each responding to a tiny stroke or edge wherever it appears. Pick a "
            "Dense model above to see 28×28 templates.")
    st.image(weights_or_stop(filters_png, card.id, card.created), alt="The first convolution's 3×3 filters in red and blue")
    st.caption("The first convolution's filters, 3×3 weights each (red positive, blue negative), shown large. "
               + concepts.note("cnn"))
else:
    st.warning(f"This page does not know how to show a {architecture!r} model's first layer.")

# ## Where the whole network puts each test image: its last hidden layer, squeezed to 2-D

st.subheader("Where the network puts each test image")
st.caption("Each unit looks for a pattern; together, the units of the last hidden layer give every image a list of "
           "numbers, one per unit, and the output layer decides from that list alone. Images the network finds "
           "alike get similar lists. The map below squeezes each list to two numbers: "
           "dots far apart on it are far apart for the network, but dots close together may still differ along "
           "the directions the map leaves out.")
insight_ui.hidden_space_map(card, loaders.require_dataset(card.dataset, card.subset), key="insight_map")
