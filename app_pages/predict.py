"""Predict: browse test images with the model's predicted label and its probability histogram.

The browser runs in the student's page (dashboard.components.image_browser): it receives the test images and every
epoch's probabilities once and redraws on each click without waiting for the server, which follows afterwards
(the URL, the code, the figures). When that cannot work, the same browsing runs on the server
(dashboard/predict_fallback.py). The view (image, epoch, filters) is dashboard/predict_view.py's.
"""

import numpy as np
import streamlit as st

from dashboard import insight as insight_ui
from dashboard import layout, loaders, predict_fallback, predict_view, url_choices
from dashboard import models as models_ui
from dashboard.components import image_browser
from mnistlib import browse_data, concepts, datasets, models, plots, store
from mnistlib.names import as_text

MAX_PAYLOAD_BYTES = 40_000_000  # the most the page sends a browser at once (server.maxMessageSize is 50 MB)

layout.setup_page("Predict", "🔮")
st.title("Predictions on the test set")
name = url_choices.chosen_dataset()
models_ui.flash()  # what the last rename or delete did
card = loaders.model_picker(name, key="predict_model") or loaders.require_model(name)
data = loaders.require_dataset(card.dataset, card.subset)
size, class_names = len(data.y_test), data.class_names


# ## The probabilities: stored after each epoch, or computed now when the stored ones do not fit


@st.cache_data(show_spinner="Computing the model's predictions on the test set…", max_entries=4)
def recomputed_probabilities(model_id: str, created: str, dataset: str, subset: str) -> np.ndarray:
    """(1, M, C) float32: the saved model's probabilities for every test image, computed now."""
    x_test = loaders.load_dataset(dataset, subset).x_test
    model = loaders.keras_model(model_id, created)
    return np.concatenate([models.predict_images(model, x_test[start:start + 1000])
                           for start in range(0, len(x_test), 1000)])[np.newaxis]


def model_probabilities() -> tuple[np.ndarray, str | None]:
    """(epochs, M, C) probabilities for this test set, and why the stored ones could not be used (or None)."""
    try:
        stored = loaders.model_probabilities(card.id, card.created)
        problem = browse_data.mismatch(data.x_test, data.y_test, stored, class_names)
    except store.CorruptModelError:
        stored, problem = None, "the file holding them is damaged"
    if problem is None:
        return stored, None
    try:
        computed = recomputed_probabilities(card.id, card.created, card.dataset, card.subset)
        still = browse_data.mismatch(data.x_test, data.y_test, computed, class_names)
    except Exception as error:  # Keras raises many kinds for a model that does not fit its input
        still = f"it cannot run on these images ({type(error).__name__})"
    if still:
        st.error(f"This saved model's predictions do not fit the {as_text(data.title)} test set ({problem}), and {still}. "
                 "Pick another model above, or train a new one on the Train page.")
        st.stop()
    st.warning(f"The predictions saved with this model do not fit the {as_text(data.title)} test set ({problem}). The "
               "predictions below were computed now by the saved model, so they are the final epoch's only.")
    return computed, problem


probabilities, problem = model_probabilities()
epochs = len(probabilities)
st.caption(f"{as_text(card.label())} — the probabilities the model gave each of the {size:,} test images after every epoch "
           "of its training; the last epoch's are `model.predict(x_test / 255.0)` of the saved model.")


# ## What is being looked at: kept in the session (and the image in ?image=), whichever browser shows it (predict_view)


views = predict_view.PredictView(card.id, data, probabilities)
view = views.current_view()


# ## What the server shows below either browser: the code, the tutorial's figure, the grid of 15


def code_text(index: int, epoch: int) -> str:
    """The Keras and numpy lines that give the saved model's numbers; an earlier epoch's are stated in words."""
    final, truth = probabilities[-1][index], int(data.y_test[index])
    guess = int(np.argmax(final))
    lines = [concepts.SNIPPET_PRELUDE + f"probabilities = model.predict(x_test / 255.0)   # shape ({size}, {len(class_names)})  after epoch "
             f"{epochs}, the saved model",
             f"probabilities[{index}]   # [{', '.join(f'{value:.3f}' for value in final)}]",
             f"np.argmax(probabilities[{index}])   # {guess}  the predicted label: {class_names[guess]}",
             f"y_test[{index}]   # {truth}  the true label: {class_names[truth]}"]
    if epoch < epochs:
        row = probabilities[epoch - 1][index]
        earlier = int(np.argmax(row))
        lines += [f"# The histogram shows epoch {epoch}. Its weights were not saved, only what they predicted;",
                  f"# for image {index}: [{', '.join(f'{value:.3f}' for value in row)}],",
                  f"# np.argmax {earlier}: {class_names[earlier]}."]
    return "\n".join(lines)


@st.cache_data(show_spinner=False, max_entries=32)
def grid_png(model_id: str, epoch: int, indices: tuple) -> bytes:
    """The tutorial's 5×3 grid for these test images after this epoch, as PNG (cached per model and selection)."""
    chosen = list(indices)
    figure = plots.prediction_grid(data.x_test[chosen], probabilities[epoch - 1][chosen], data.y_test[chosen],
                                   class_names)
    return plots.figure_png(figure, dpi=80)


def details(view: dict) -> None:
    """The code panel, the tutorial's figure and the grid of 15, for the view the server knows."""
    index, epoch = view["image"], view["epoch"]
    with st.expander("The same in Keras and numpy"):
        st.caption("`model` is the saved model; " + concepts.test_set_as_loaded(
            size, card.dataset if card.dataset in datasets.REGISTRY else None, datasets.FULL_SHAPES["y_test"][0])
            + " " + concepts.STORED_VALUES)
        st.code(code_text(index, epoch), language="python")
    insight_ui.why_this_answer(card, data, index, epoch, epochs, key="predict_why")
    if st.toggle("Show the TensorFlow tutorial's figure (matplotlib) with a PNG download", key="predict_show_figure"):
        figure = plots.prediction_figure(data.x_test[index], probabilities[epoch - 1][index], int(data.y_test[index]),
                                         class_names)
        png = plots.figure_png(figure)
        st.image(png, caption=f"x_test[{index}] after epoch {epoch}",
                 alt=f"The TensorFlow tutorial's figure for test image {index} after epoch {epoch}: the image with its "
                     "predicted label, and a bar chart of its probabilities")
        st.download_button("Download PNG", png, file_name=f"{card.dataset}-test-{index}-epoch-{epoch}.png",
                           mime="image/png", key="predict_download")
    st.caption(concepts.note("softmax") + " " + concepts.note("outputs"))
    st.subheader("15 test images at a glance")
    st.caption(f"As in the TensorFlow tutorial, after epoch {epoch}, for the images that match the filters: blue "
               "label = right, red = wrong; the bars show each image's probabilities (red: predicted, blue: true).")
    matching = views.matching_images(view)
    if len(matching):
        st.image(grid_png(card.id, epoch, tuple(int(i) for i in matching[:15])),
                 alt=f"{min(15, len(matching))} test images, each with its predicted label, probability and true label "
                     "and a bar chart of its probabilities")


# ## The browser in the page: redraws at once, tells the server afterwards


@st.cache_resource(show_spinner="Packing the test images for your browser…", max_entries=8)
def browse_payload(model_id: str, created: str, dataset: str, subset: str) -> bytes:
    """The browse_data payload of a model (immutable bytes, shared by every session: the same on every rerun)."""
    test = loaders.load_dataset(dataset, subset)
    stored = loaders.model_probabilities(model_id, created)
    return browse_data.pack(model_id, test.x_test, test.y_test, stored, test.class_names)


@st.fragment
def page_browser() -> None:
    if views.browser_failed():
        st.rerun(scope="app")
    payload = browse_payload(card.id, card.created, card.dataset, card.subset)
    view = st.session_state[predict_view.VIEW_KEY]
    image_browser.image_browser(payload, card.id, {key: view[key] for key in ("image", "epoch", "true_class", "result")},
                                key=predict_view.BROWSER_KEY, on_view=views.take_browser_view,
                                on_failed=views.take_browser_failure)
    st.query_params["image"] = str(view["image"])
    details(view)


# ## Which browser


failure = views.browser_failed()
if problem is None and failure is None:
    payload_size = len(browse_payload(card.id, card.created, card.dataset, card.subset))
    if payload_size <= MAX_PAYLOAD_BYTES:
        page_browser()
    else:
        st.info(f"This model's {epochs} epochs of predictions are too large to send to your browser at once "
                f"({payload_size / 1e6:.0f} MB), so the images are browsed through the server.")
        predict_fallback.server_browser(views, view, details)
else:
    if failure:
        st.info(f"Your browser could not show the test images here: {failure['reason']}. They are browsed through "
                "the server instead, so each click waits for it.")
        if st.button("Try the in-page browser again", key="predict_retry_browser"):
            st.session_state.pop(predict_view.FAILED_KEY, None)
            st.rerun()
    predict_fallback.server_browser(views, view, details)

# ## This model: rename or delete it (your own), take it home

with st.expander("This model: rename, delete, download"):
    models_ui.manage(card, key="predict_manage")
    models_ui.downloads(card, key="predict_download_model")
