"""Predict: browse test images with the model's predicted label and its probability histogram."""

import numpy as np
import streamlit as st

import ui
from mnistlib import concepts, evaluation, plots

ui.setup_page("Predict", "🔮")
st.title("Predictions on the test set")
name = ui.chosen_dataset()
card = ui.model_picker(name, key="predict_model") or ui.require_model(name)
data = ui.require_dataset(card.dataset, card.subset)
probabilities = ui.model_probabilities(card.id, card.created)  # (epochs, M, 10)
final = probabilities[-1]
predicted = evaluation.predicted_labels(final)
size = len(data.y_test)
st.caption(f"{card.label()} — probabilities computed by the model on all {size:,} test images when training "
           "finished (`model.predict(x_test)`), and after each epoch.")

# ## Which images to browse

left, right = st.columns(2)
class_choice = left.selectbox("True class", ["any", *data.class_names], key="predict_filter_class")
result_choice = right.radio("Result", ["all", "right", "wrong"], horizontal=True, key="predict_filter_result")
true_class = None if class_choice == "any" else data.class_names.index(class_choice)
matching = evaluation.filter_indices(data.y_test, predicted, true_class, result_choice)
if "predict_index" not in st.session_state:
    st.session_state["predict_index"] = ui.chosen_image_index(size)
st.session_state["predict_index"] = min(max(int(st.session_state["predict_index"]), 0), size - 1)
if len(matching) == 0:
    st.warning("No test image matches this filter.")
st.caption(f"{len(matching):,} of {size:,} test images match; accuracy on the whole test set "
           f"{evaluation.accuracy(data.y_test, predicted):.2%}.")


def step(direction: int) -> None:
    """Move to the previous/next matching image (wrapping around), or a random one (direction 0)."""
    if len(matching) == 0:
        return
    current = st.session_state["predict_index"]
    if direction == 0:
        st.session_state["predict_index"] = int(np.random.default_rng().choice(matching))
    elif direction > 0:
        later = matching[matching > current]
        st.session_state["predict_index"] = int(later[0] if len(later) else matching[0])
    else:
        earlier = matching[matching < current]
        st.session_state["predict_index"] = int(earlier[-1] if len(earlier) else matching[-1])


# ## One image: the browser reruns on its own, so "next" redraws only this part


@st.fragment
def image_browser() -> None:
    columns = st.columns([2, 1, 1, 1])
    columns[0].number_input("Test image index i", 0, size - 1, key="predict_index")
    columns[1].button("◀ Previous", key="predict_previous", on_click=step, args=(-1,), width="stretch")
    columns[2].button("Next ▶", key="predict_next", on_click=step, args=(1,), width="stretch")
    columns[3].button("🎲 Random", key="predict_random", on_click=step, args=(0,), width="stretch")
    index = int(st.session_state["predict_index"])
    st.query_params["image"] = str(index)
    st.session_state["image"] = index

    row, true_label = final[index], int(data.y_test[index])
    guess = int(predicted[index])
    picture, histogram = st.columns([1, 2])
    with histogram:  # filled first: the histogram is what a click on "Next" is for, so it is sent first
        epochs = len(probabilities)
        epoch = epochs
        if epochs > 1:
            epoch = st.slider("After epoch", 1, epochs, epochs, key="predict_epoch",
                              help="How this image's probabilities changed while the model trained.")
        st.plotly_chart(plots.probability_bar(probabilities[epoch - 1][index], data.class_names, true_label,
                                              title=f"Probabilities after epoch {epoch}"), key="predict_histogram")
    with picture:  # the image travels inside the page as a data URI: no second request per click
        st.html(plots.image_html(data.x_test[index], caption=f"x_test[{index}] — what the model sees", width=224))
        verdict = "right ✅" if guess == true_label else "wrong ❌"
        st.markdown(f"### Predicted: {data.class_names[guess]}")
        st.markdown(f"confidence **{row[guess]:.1%}** · true label **{data.class_names[true_label]}** · {verdict}")
    with st.expander("The same in Keras and numpy"):
        values = ", ".join(f"{value:.3f}" for value in row)
        st.code(f"probabilities = model.predict(x_test)   # shape ({size}, 10), each row sums to 1\n"
                f"probabilities[{index}]   # [{values}]\n"
                f"np.argmax(probabilities[{index}])   # {guess}  ({data.class_names[guess]}): the predicted label\n"
                f"y_test[{index}]   # {true_label}  ({data.class_names[true_label]}): the true label", language="python")
    if st.toggle("Show the TensorFlow tutorial's figure (matplotlib) with a PNG download", key="predict_show_figure"):
        figure = plots.prediction_figure(data.x_test[index], row, true_label, data.class_names)
        png = plots.figure_png(figure)
        st.image(png)
        st.download_button("Download PNG", png, file_name=f"{card.dataset}-test-{index}.png", mime="image/png",
                           key="predict_download")


image_browser()
st.caption(concepts.note("softmax") + " " + concepts.note("outputs"))

# ## The tutorial's grid of 15


@st.cache_data(show_spinner=False, max_entries=32)
def grid_png(model_id: str, indices: tuple) -> bytes:
    """The tutorial's 5×3 grid for these test images, as PNG (cached per model and selection)."""
    chosen = list(indices)
    figure = plots.prediction_grid(data.x_test[chosen], final[chosen], data.y_test[chosen], data.class_names)
    return plots.figure_png(figure, dpi=80)


st.subheader("15 test images at a glance")
st.caption("As in the TensorFlow tutorial: blue label = right, red = wrong; the bars show each image's "
           "probabilities (red: predicted, blue: true).")
if len(matching):
    st.image(grid_png(card.id, tuple(int(i) for i in matching[:15])))
