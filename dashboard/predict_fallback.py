"""Predict's browser on the server, the fallback when the in-page one cannot work: every click is a round trip.

    predict_fallback.server_browser(views, view, details)   # details(view) draws what follows either browser
"""

import numpy as np
import streamlit as st

from dashboard.predict_view import RESULTS, VIEW_KEY
from mnistlib import concepts, evaluation, plots
from mnistlib.names import as_text

ANY_CLASS = -1  # the "any" choice of the True class box (a select box shows None as "Choose an option")


def step(views, direction: int) -> None:
    """Move to the previous/next matching image (wrapping around), or a random one (direction 0)."""
    current = st.session_state[VIEW_KEY]
    matching = views.matching_images(current)
    if len(matching) == 0:
        return
    if direction == 0:
        image = int(np.random.default_rng().choice(matching))
    elif direction > 0:
        later = matching[matching > current["image"]]
        image = int(later[0] if len(later) else matching[0])
    else:
        earlier = matching[matching < current["image"]]
        image = int(earlier[-1] if len(earlier) else matching[-1])
    views.set_view(image=image)


def widget_changed(views, widget_key: str, view_key: str) -> None:
    value = st.session_state[widget_key]
    views.set_view(**{view_key: None if view_key == "true_class" and value == ANY_CLASS else value})


@st.fragment
def server_image_browser(views, details) -> None:
    probabilities, data, class_names = views.probabilities, views.data, views.class_names
    size, epochs = views.size, views.epochs
    view = st.session_state[VIEW_KEY]
    index, epoch = view["image"], view["epoch"]
    st.session_state["predict_index"] = index
    columns = st.columns([2, 1, 1, 1])
    columns[0].number_input("Test image index i", 0, size - 1, key="predict_index", on_change=widget_changed,
                            args=(views, "predict_index", "image"))
    columns[1].button("◀ Previous", key="predict_previous", on_click=step, args=(views, -1), width="stretch")
    columns[2].button("Next ▶", key="predict_next", on_click=step, args=(views, 1), width="stretch")
    columns[3].button("🎲 Random", key="predict_random", on_click=step, args=(views, 0), width="stretch")
    st.query_params["image"] = str(index)
    row, truth = probabilities[epoch - 1][index], int(data.y_test[index])
    guess = int(np.argmax(row))
    picture, histogram = st.columns([1, 2])
    with histogram:  # filled first: the histogram is what a click on "Next" is for, so it is sent first
        if epochs > 1:
            st.session_state["predict_epoch"] = epoch
            st.slider("After epoch", 1, epochs, key="predict_epoch", on_change=widget_changed,
                      args=(views, "predict_epoch", "epoch"),
                      help="How this image's probabilities changed while the model trained.")
        st.plotly_chart(plots.probability_bar(row, class_names, truth, title=f"Probabilities after epoch {epoch}"),
                        key="predict_histogram")
    with picture:  # the image travels inside the page as a data URI: no second request per click
        st.html(plots.image_html(data.x_test[index], caption=f"x_test[{index}] — what the model sees", width=224))
        st.markdown(f"### Predicted: {as_text(class_names[guess])}")
        st.markdown(f"confidence **{row[guess]:.1%}** · true label **{as_text(class_names[truth])}** · "
                    + ("right ✅" if guess == truth else "wrong ❌"))
        st.caption("Confidence is the probability the model gives its predicted class. " + concepts.note("confidence"))
    details(view)


def server_browser(views, view: dict, details) -> None:
    """Filters (a full rerun) and the image browser (a fragment), all drawn on the server; views: the page's
    predict_view.PredictView, details(view): the panels below the browser."""
    class_names, size = views.class_names, views.size
    st.session_state["predict_filter_class"] = ANY_CLASS if view["true_class"] is None else view["true_class"]
    st.session_state["predict_filter_result"] = view["result"]
    left, right = st.columns(2)
    left.selectbox("True class", [ANY_CLASS, *range(len(class_names))], key="predict_filter_class",
                   format_func=lambda k: "any" if k == ANY_CLASS else class_names[k], on_change=widget_changed,
                   args=(views, "predict_filter_class", "true_class"))
    right.radio("Result", RESULTS, horizontal=True, key="predict_filter_result", on_change=widget_changed,
                args=(views, "predict_filter_result", "result"))
    matching = views.matching_images(view)
    if len(matching) == 0:
        st.warning("No test image matches this filter.")
    predicted = evaluation.predicted_labels(views.probabilities[view["epoch"] - 1])
    st.caption(f"{len(matching):,} of {size:,} test images match; accuracy on the whole test set after epoch "
               f"{view['epoch']}: {evaluation.accuracy(views.data.y_test, predicted):.2%}.")
    server_image_browser(views, details)
