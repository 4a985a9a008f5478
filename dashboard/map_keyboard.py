"""The hidden-space map without the mouse (Model insight): choose its points by class, by test-image index, or as the
nearest points to one image. Plotly's own points cannot take the keyboard focus (plotly.js #562), so these
controls, drawn below the map, give the same images a click or a lasso gives. And the map as text: a table per
class and one per point, behind an expander, for a screen reader."""

import numpy as np
import streamlit as st

from mnistlib import insight_figures as figures
from mnistlib.names import as_text

NOTHING, ONE_CLASS, NEAREST = "nothing", "one class", "nearest"
WAYS = {NOTHING: "Nothing (use the mouse on the map)", ONE_CLASS: "Every image of one true class",
        NEAREST: "One test image and its nearest points on the map"}
MAX_NEAREST = 47  # with the image itself, the 48 images _selected_images shows


def keyboard_choice(points, labels, class_names, key: str) -> tuple[list[int], list[int]]:
    """The controls; returns (the test indices they choose, the nearest points in order) — both empty for
    "nothing". points: (M, 2) the map's points as drawn now; labels: (M,) true classes."""
    with st.container(border=True):
        st.markdown("**Choose images without the mouse** (Tab to these controls, arrow keys to change them)")
        way = st.radio("Select", list(WAYS), format_func=WAYS.get, key=f"{key}_way", horizontal=True)
        if way == ONE_CLASS:
            label = st.selectbox("True class", range(len(class_names)), format_func=lambda k: class_names[k],
                                 key=f"{key}_class")
            chosen = [index for index in range(len(labels)) if labels[index] == label]
            st.caption(f"{len(chosen):,} test images are {as_text(class_names[label])}: ringed in blue on the map.")
            return chosen, []
        if way == NEAREST:
            index_column, count_column = st.columns(2)
            index = index_column.number_input("Test image index", 0, len(labels) - 1, 0, step=1, key=f"{key}_index")
            count = count_column.number_input("Nearest points to list", 1, min(MAX_NEAREST, len(labels) - 1), 8,
                                              step=1, key=f"{key}_count")
            nearest = [int(neighbour) for neighbour in figures.nearest_points(points, int(index), int(count))]
            return [int(index), *nearest], nearest
    return [], []


def nearest_table(points, index: int, nearest: list[int], labels, predicted, class_names, key: str) -> None:
    """The nearest points as a table a screen reader and the keyboard can read: index, classes, distance."""
    origin = points[index]
    st.markdown(f"**The {len(nearest)} points nearest to test image {index}** (true "
                f"{as_text(class_names[labels[index]])}, predicted {as_text(class_names[predicted[index]])}) on "
                "the map, nearest first:")
    st.dataframe([{"test image": neighbour, "true class": class_names[labels[neighbour]],
                   "predicted": class_names[predicted[neighbour]],
                   "result": "✓ right" if labels[neighbour] == predicted[neighbour] else "✗ wrong",
                   "distance on the map": round(float(((points[neighbour] - origin) ** 2).sum() ** 0.5), 3)}
                  for neighbour in nearest], hide_index=True, key=f"{key}_nearest_table")


def map_as_tables(points, labels, predicted, class_names) -> None:
    """The map's numbers in an expander: each class's centre and spread, then every point. points (M, 2)."""
    with st.expander("The map as a table (for a screen reader)"):
        st.caption("Each class's centre on the map (the mean of its dots' two coordinates), how far its dots lie from "
                   "it on average, and how many of them are mistakes (ringed on the map); then every dot.")
        rows = []
        for label, name in enumerate(class_names):
            members = points[labels == label]
            centre = members.mean(axis=0) if len(members) else np.full(2, np.nan)
            spread = float(np.linalg.norm(members - centre, axis=1).mean()) if len(members) else float("nan")
            rows.append({"true class": name, "test images": len(members),
                         "mistakes": int(((labels == label) & (predicted != labels)).sum()),
                         "centre, first direction": round(float(centre[0]), 3),
                         "centre, second direction": round(float(centre[1]), 3), "mean distance from the centre":
                         round(spread, 3)})
        st.table(rows, hide_index=True)
        st.dataframe({"test image": np.arange(len(labels)), "true class": [class_names[k] for k in labels],
                      "predicted": [class_names[k] for k in predicted],
                      "first direction": points[:, 0].astype(np.float32),
                      "second direction": points[:, 1].astype(np.float32)}, hide_index=True)
