"""The Train page's previews of the overfitting lab: a few relabelled training images, and a few augmented ones."""

import streamlit as st

from mnistlib import lab_preview, plots
from mnistlib.names import as_text

COUNT = 8


@st.cache_data(show_spinner=False, max_entries=16)
def _relabelled(dataset: str, subset: str, validation_split: float, train_images, label_noise: float, seed: int):
    from mnistlib import datasets

    return lab_preview.relabelled(datasets.load(dataset, subset=subset), validation_split, train_images, label_noise,
                                  seed, COUNT)


@st.cache_data(show_spinner="Augmenting a few training images…", max_entries=16)
def _augmented(dataset: str, subset: str, validation_split: float, train_images, seed: int):
    from mnistlib import datasets

    return lab_preview.augmented(datasets.load(dataset, subset=subset), validation_split, train_images, seed, COUNT)


def previews(data, validation_split: float, train_images, label_noise: float, augment: bool, seed: int) -> None:
    """With label noise, a few relabelled training images; with augmentation, a few training images and an
    augmented version of each. Every image has its text alternative."""
    names = data.class_names
    if label_noise:
        with st.expander("🏷️ Show a few relabelled images"):
            shown = _relabelled(data.name, data.subset, validation_split, train_images, label_noise, seed)
            st.caption("Training images whose label was replaced by a wrong class: the network is told the wrong "
                       "label, and to fit it, it must memorise the image.")
            st.image([plots.enlarge(image, 3) for image in shown.images], width=84,
                     caption=[f"{as_text(names[true])}, labelled {as_text(names[given])}"
                              for true, given in zip(shown.true_labels, shown.given_labels, strict=True)],
                     alt=[f"Training image {position + 1}: a {names[true]}, given the wrong label {names[given]}"
                          for position, true, given in zip(shown.positions, shown.true_labels, shown.given_labels,
                                                           strict=True)])
    if augment:
        with st.expander("🔀 Show a few augmented images"):
            originals, changed = _augmented(data.name, data.subset, validation_split, train_images, seed)
            st.caption("Top: training images as stored. Below: one random shift, rotation and zoom of each, from "
                       "the ranges training uses (up to ±10% shift, ±10° rotation, ±10% zoom); in training, every "
                       "use of an image draws a new one.")
            st.image([plots.enlarge(image, 3) for image in originals], width=84,
                     caption=[f"image {index + 1}" for index in range(len(originals))],
                     alt=[f"Training image {index + 1} as stored" for index in range(len(originals))])
            st.image([plots.enlarge(image, 3) for image in changed], width=84,
                     caption=[f"image {index + 1}, augmented" for index in range(len(changed))],
                     alt=[f"Training image {index + 1} randomly shifted, rotated and zoomed"
                          for index in range(len(changed))])
