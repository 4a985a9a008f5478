"""The overfitting lab's controls on the Train page: training images, label noise, L2, augmentation and early
stopping (mnistlib/training/lab_data.py and the engine's TrainRequest fields), in the vocabulary of lesson links."""

import streamlit as st

from dashboard.train.setting import FRACTIONS, Setting, tidy
from mnistlib import concepts
from mnistlib.training import lab_data, steps

L2_FACTORS = [0.0, 0.0001, 0.001, 0.01, 0.1]
MAX_PATIENCE = 50  # the page trains at most 50 epochs

# In the page's order, after the network's and the training's settings (dashboard/train/settings.SETTINGS).
LAB_SETTINGS = {
    # 0 training images means all of them; 0 patience means no early stopping.
    "train_images": Setting("train_train_images", int, range(0, 10**7), "Training images (0: all)",
                            "the number of training images"),
    "label_noise": Setting("train_label_noise", float, FRACTIONS[:17], "Label noise", "the label noise"),
    "l2": Setting("train_l2", float, L2_FACTORS, "L2 weight decay", "the L2 weight decay"),
    "augment": Setting("train_augment", bool, (False, True), "Augment the training images", "the augmentation"),
    "early_stopping": Setting("train_early_stopping", int, range(0, MAX_PATIENCE + 1),
                              "Early stopping patience (0: off)", "the early stopping patience"),
}
DEFAULTS = {"train_images": 0, "label_noise": 0.0, "l2": 0.0, "augment": False, "early_stopping": 0}


def page_values(lab: dict | None) -> dict:
    """The lab's settings as the page's controls hold them, from TrainRequest's (lab_settings(), or request_values())."""
    lab = lab or {}
    return {"train_images": lab.get("train_images") or 0, "label_noise": tidy(lab.get("label_noise", 0.0)),
            "l2": tidy(lab.get("l2", 0.0)), "augment": bool(lab.get("augment", False)),
            "early_stopping": lab.get("early_stopping") or 0}


def request_values(values: dict) -> dict:
    """The page's lab values as TrainRequest takes them: train_images None for all, and l2, augment and
    early_stopping only when set (so an ordinary request is exactly what it always was)."""
    request = {"train_images": int(values["train_images"]) or None, "label_noise": tidy(values["label_noise"])}
    if values["l2"]:
        request["l2"] = tidy(values["l2"])
    if values["augment"]:
        request["augment"] = True
    if values["early_stopping"]:
        request["early_stopping"] = int(values["early_stopping"])
    return request


def session_values() -> dict:
    """The lab's values the session's controls hold (after the settings were drawn), by setting name."""
    return {name: st.session_state.get(setting.key, DEFAULTS[name]) for name, setting in LAB_SETTINGS.items()}


def controls(control) -> None:
    """Draw the lab's controls with dashboard.train.settings' control(name, widget, *arguments, **options)."""
    st.markdown("**The overfitting lab** — learn from fewer images or wrong labels, or fight memorising")
    columns = st.columns(5)
    with columns[0]:
        control("train_images", st.number_input, 0, 10**7 - 1, step=100, help=concepts.note("train_images"))
    with columns[1]:
        control("label_noise", st.slider, 0.0, lab_data.MAX_LABEL_NOISE, step=0.05, help=concepts.note("label_noise"))
    with columns[2]:
        control("l2", st.select_slider, L2_FACTORS, format_func=lambda factor: f"{factor:g}", help=concepts.note("l2"))
    with columns[3]:
        control("augment", st.checkbox, help=concepts.note("augment"))
    with columns[4]:
        control("early_stopping", st.number_input, 0, MAX_PATIENCE, help=concepts.note("early_stopping"))


def tidied(values: dict) -> dict:
    """The lab's float values on their decimal steps."""
    return {"label_noise": tidy(values["label_noise"]), "l2": tidy(values["l2"])}


def captions(training_images: int, validation_split: float, values: dict, batch_size: int) -> None:
    """What the lab's settings change here, in a caption (nothing when none is set)."""
    train_images = int(values["train_images"]) or None
    if train_images or values["label_noise"]:
        st.caption(concepts.lab_note(training_images, validation_split, train_images, values["label_noise"],
                                     batch_size))
    if values["augment"]:
        available, held_back = steps.split_sizes(training_images, validation_split)
        learned_from = available if train_images is None else min(train_images, available)
        st.caption(f"**Augmentation**: the weights still learn from {learned_from:,} training images, each shown "
                   "randomly shifted, rotated and zoomed, anew every time it is used"
                   + (f"; the {held_back:,} validation images are never changed." if held_back else "."))
    if values["early_stopping"]:
        patience = int(values["early_stopping"])
        st.caption(f"**Early stopping**: training stops after {patience} epoch{'s' if patience != 1 else ''} in a "
                   f"row without a lower validation loss (at most {int(values['epochs'])} epochs), and the model "
                   "keeps the weights of the epoch with the lowest validation loss.")
