"""The Predict page's view state: which test image, epoch and filters are looked at, kept in the session (and the
image in ?image=) whichever browser shows it, checked on every change."""

from dataclasses import dataclass

import numpy as np
import streamlit as st

from dashboard import url_choices
from dashboard.components import image_browser
from mnistlib import datasets, evaluation

BROWSER_KEY, VIEW_KEY, FAILED_KEY = "predict_browser", "predict_view", "predict_browser_failed"
RESULTS = ("all", "right", "wrong")


def whole(value, low: int, high: int, default):
    """value when it is an integer in [low, high] (bool excluded), else default."""
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool) and low <= value <= high
    return int(value) if ok else default


@dataclass(frozen=True, eq=False)
class PredictView:
    """The view of one model's test-set predictions: probabilities (epochs, M, C) for data's M test images."""

    model_id: str
    data: datasets.Dataset
    probabilities: np.ndarray

    @property
    def size(self) -> int:
        return len(self.data.y_test)

    @property
    def epochs(self) -> int:
        return len(self.probabilities)

    @property
    def class_names(self) -> list:
        return self.data.class_names

    def __repr__(self) -> str:
        return f"PredictView({self.model_id!r}, {self.size} images, {self.epochs} epochs)"

    def checked_view(self, wanted: dict, current: dict) -> dict:
        """The view {image, epoch, true_class, result} from wanted, each value checked; current for bad ones."""
        return {
            "image": whole(wanted.get("image"), 0, self.size - 1, current["image"]),
            "epoch": whole(wanted.get("epoch"), 1, self.epochs, current["epoch"]),
            "true_class": (None if wanted.get("true_class", current["true_class"]) is None
                           else whole(wanted.get("true_class"), 0, len(self.class_names) - 1, current["true_class"])),
            "result": wanted.get("result") if wanted.get("result") in RESULTS else current["result"],
        }

    def current_view(self) -> dict:
        """This session's view of this model; a newly opened model starts at its last epoch."""
        saved = st.session_state.get(VIEW_KEY) or {}
        start = {"image": url_choices.chosen_image_index(self.size), "epoch": self.epochs, "true_class": None,
                 "result": "all"}
        view = self.checked_view({**saved, "image": start["image"]}, start)
        if saved.get("model") != self.model_id:
            view["epoch"] = self.epochs
        st.session_state[VIEW_KEY] = {**view, "model": self.model_id}
        return view

    def set_view(self, **changes) -> None:
        """Change the view (checked) and the image the other pages and the URL follow."""
        view = self.checked_view(changes, st.session_state[VIEW_KEY])
        st.session_state[VIEW_KEY] = {**view, "model": self.model_id}
        st.session_state["image"] = view["image"]

    def take_browser_view(self) -> None:
        """The in-page browser moved (the student clicked there): the server follows."""
        self.set_view(**(image_browser.reported(BROWSER_KEY, "view") or {}))

    def take_browser_failure(self) -> None:
        """The in-page browser could not show the images: browse through the server from now on."""
        reason = image_browser.reported(BROWSER_KEY, "failed")
        st.session_state[FAILED_KEY] = {"model": self.model_id, "reason": str(reason or "no reason given")[:300]}

    def browser_failed(self) -> dict | None:
        """Why the in-page browser failed for this model in this session, or None."""
        failure = st.session_state.get(FAILED_KEY)
        return failure if failure and failure.get("model") == self.model_id else None

    def matching_images(self, view: dict) -> np.ndarray:
        """Test indices that pass the view's filters, judged at the view's epoch."""
        predicted = evaluation.predicted_labels(self.probabilities[view["epoch"] - 1])
        return evaluation.filter_indices(self.data.y_test, predicted, view["true_class"], view["result"])
