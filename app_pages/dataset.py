"""Dataset: the images and labels, their shapes and classes, and why they are split into training and test sets."""

import numpy as np
import streamlit as st

from dashboard import layout, loaders, url_choices
from mnistlib import concepts, datasets, evaluation, models, names, plots
from mnistlib.names import as_text
from mnistlib.training import steps


@st.cache_data(show_spinner=False, max_entries=32)
def sample_grid_png(name: str, subset: str, created: str, seed: int, shown: int) -> bytes:
    """The sample grid's PNG, drawn once per dataset version and seed (matplotlib takes ~0.3 s of CPU per grid)."""
    data = loaders.load_dataset(name, subset)
    chosen = np.random.default_rng(seed).choice(len(data.y_train), size=shown, replace=False) if seed else \
        np.arange(shown)
    return plots.figure_png(plots.sample_grid(data.x_train[chosen], data.y_train[chosen], data.class_names), dpi=70)


layout.setup_page("Dataset", "🗂️")
st.title("The data")
name = url_choices.dataset_selector(key="dataset_choice")
data = loaders.require_dataset(name)

# ## The tutorial's questions, answered from the real arrays

classes = len(data.class_names)
st.subheader(f"{as_text(data.title)}: what is in it")
shapes = st.columns(4)
shapes[0].metric("x_train.shape", str(data.x_train.shape), help="training images: count, height, width")
shapes[1].metric("len(y_train)", f"{len(data.y_train)}", help=f"one label (0–{classes - 1}) per training image")
shapes[2].metric("x_test.shape", str(data.x_test.shape),
                 help="test images: never used to adjust the weights, kept for checking the model")
shapes[3].metric("len(y_test)", f"{len(data.y_test)}", help="one label per test image")
if data.subset == "small" and name in datasets.REGISTRY:
    full = datasets.FULL_SHAPES
    st.info(f"These are the arrays of the **small practice subset** this server uses, so that training takes "
            f"seconds. The full {as_text(data.title)}, as `keras.datasets.{name}.load_data()` returns it, has "
            f"`x_train.shape` {full['x_train']}, `len(y_train)` {full['y_train'][0]}, "
            f"`x_test.shape` {full['x_test']} and `len(y_test)` {full['y_test'][0]}.")
entry = datasets.info(name)
if entry.custom:
    st.info(names.markdown_escape(f"The class's own dataset, added by {entry.added_by or 'the command line'} from "
                                  f"{entry.source or 'a file'}. " + " ".join(entry.notes)))
st.markdown(f"Each image is 28×28 pixels of type `{data.x_train.dtype}` (whole numbers 0–255); each label is "
            f"a class number 0–{classes - 1}. The classes: " + ", ".join(
                f"**{index}** {names.markdown_escape(label)}" for index, label in enumerate(data.class_names)) + ".")

# ## Training and test split, told on the actual numbers

st.subheader("Why a training set and a test set?")
validation_fraction = models.ModelSpec().validation_split
learned_from, held_back = steps.split_sizes(len(data.y_train), validation_fraction)
st.markdown(
    f"The network's weights are adjusted on the **{len(data.y_train):,} training images** only. The "
    f"**{len(data.y_test):,} test images** are never used to adjust them: the model's accuracy on them tells how "
    f"well it does on images it has never learned from. With the Train page's default validation split of "
    f"{validation_fraction:.0%}, the last {held_back:,} training images are also held back and measured after "
    f"every epoch, so the weights are adjusted on {learned_from:,} of the {len(data.y_train):,} training images."
)
st.caption(concepts.note("split") + " " + concepts.note("validation"))

# ## Classes and samples

counts_column, samples_column = st.columns([2, 3])
with counts_column:
    counts = evaluation.class_counts(data.y_train, classes)
    st.plotly_chart(plots.class_counts_bar(counts, data.class_names, title="Training images per class"),
                    key="dataset_counts")
    if counts.min() == counts.max():
        st.caption(f"Exactly {counts.min():,} images per class: perfectly balanced.")
    elif counts.min() >= 0.8 * counts.max():
        st.caption(f"Between {counts.min():,} and {counts.max():,} images per class: roughly balanced.")
    else:
        st.caption(f"Between {counts.min():,} and {counts.max():,} images per class: not balanced. A model can "
                   "score well overall while doing badly on the small classes; check them on the Mistakes page.")
with samples_column:
    if st.button("Show other samples", key="dataset_new_sample"):
        st.session_state["dataset_sample_seed"] = st.session_state.get("dataset_sample_seed", 0) + 1
    seed = st.session_state.get("dataset_sample_seed", 0)
    shown = min(25, len(data.y_train))  # a class's own dataset may have fewer training images
    st.image(sample_grid_png(data.name, data.subset, datasets.info(data.name).created, seed, shown),
             caption="Training images with their labels" + ("" if seed else f" (the first {shown})"),
             alt=f"A grid of {shown} training images, each titled with its label")

# ## One image, as numbers

st.subheader("One image, as the computer sees it")
index = st.number_input("Training image index", 0, len(data.y_train) - 1, 0, key="dataset_image_index")
raw_column, scaled_column = st.columns(2)
image = data.x_train[index]
with raw_column:
    st.plotly_chart(plots.image_figure(image, title=f"x_train[{index}]: {data.class_names[data.y_train[index]]}, "
                                       "raw values 0–255", show_values=True), key="dataset_raw")
with scaled_column:
    st.plotly_chart(plots.image_figure(image, title=f"x_train[{index}] / 255.0: values 0–1", scaled=True),
                    key="dataset_scaled")
st.caption(concepts.note("scaling"))
