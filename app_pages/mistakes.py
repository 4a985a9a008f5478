"""Mistakes: the confusion matrix, the images behind each cell, per-class figures and the worst mistakes."""

import functools

import streamlit as st

from dashboard import layout, loaders, url_choices
from mnistlib import concepts, datasets, evaluation, plots, store
from mnistlib.names import as_chart_text, as_text

GALLERY_PAGE = 36  # images shown per "page" of a cell's gallery
PAIRS_SHOWN = 8
WORST_SHOWN = 6

layout.setup_page("Mistakes", "🔍")
st.title("Where the model goes wrong")
name = url_choices.chosen_dataset()
card = loaders.model_picker(name, key="mistakes_model") or loaders.require_model(name)
data = loaders.require_dataset(card.dataset, card.subset)
labels, names = data.y_test, list(data.class_names)
try:
    probabilities = loaders.model_probabilities(card.id, card.created)  # (epochs, M, classes)
except store.CorruptModelError:
    st.error(concepts.DAMAGED_MODEL)
    st.stop()
if probabilities.shape[1:] != (len(labels), len(names)):
    st.error(f"This saved model's stored predictions cover {probabilities.shape[1]:,} test images but its test set "
             f"has {len(labels):,}. " + concepts.DAMAGED_MODEL)
    st.stop()
final = probabilities[-1]
predicted = evaluation.predicted_labels(final)
wrong = int((predicted != labels).sum())

accuracy_column, wrong_column, note_column = st.columns([1, 1, 3])
accuracy_column.metric("Test accuracy", f"{evaluation.accuracy(labels, predicted):.2%}",
                       help="Right answers among test images the model never learned from: the final check. To "
                            "choose settings, compare validation accuracy (Train page), not this.")
wrong_column.metric(f"Wrong answers (of {len(labels):,})", f"{wrong:,}")
note_column.caption(f"Measured on the {len(labels):,} images of the {card.subset} test set, which the model never "
                    "learned from. Every figure on this page comes from the probabilities the model gave each test "
                    "image, `model.predict(x_test / 255.0)`, saved after every epoch.")
note_column.download_button(
    "Download all test predictions (CSV)",
    # Built only when clicked: one row per test image, index, true, predicted, confidence, one probability per class.
    functools.partial(evaluation.predictions_csv, labels, final, names),
    file_name=f"{card.dataset}-{card.id}-predictions.csv", mime="text/csv", key="mistakes_csv",
    help=f"index, true label, predicted label, confidence, then the probability of each of the {len(names)} classes.")


with st.expander("The same in Keras and numpy"):
    st.markdown("With `model` this saved model (pixels divided by 255 as in training); " + concepts.test_set_as_loaded(
        len(labels), card.dataset if card.dataset in datasets.REGISTRY else None, datasets.FULL_SHAPES["y_test"][0])
        + " " + concepts.STORED_VALUES)
    st.code(concepts.SNIPPET_PRELUDE + f"probabilities = model.predict(x_test / 255.0)   # shape {final.shape}\n"
            "predicted = np.argmax(probabilities, axis=1)\n"
            f"np.mean(predicted == y_test)   # {evaluation.accuracy(labels, predicted):.4f}  the test accuracy\n"
            f"np.sum(predicted != y_test)   # {wrong}  wrong answers\n"
            "# The mistakes with the largest loss, −log(probability given to the true class), largest first:\n"
            "wrong = np.flatnonzero(predicted != y_test)\n"
            "loss = -np.log(probabilities[wrong, y_test[wrong]])\n"
            f"wrong[np.argsort(-loss)][:{WORST_SHOWN}]", language="python")


def matrix_table(matrix, label: str = "The confusion matrix as a table") -> None:
    """The confusion matrix (classes, classes) as a plain HTML table in an expander: a screen reader reads it cell by
    cell with its row and column names (the heatmap's numbers are drawn, not text it can walk through)."""
    with st.expander(label):
        st.caption("Rows: the true class; columns: the predicted class; each number counts test images. The "
                   "diagonal (true = predicted) holds the right answers.")
        st.table({"true ↓ / predicted →": list(names),
                  **{f"→ {names[column]}": [int(value) for value in matrix[:, column]] for column in range(len(names))}},
                 hide_index=True)


# ## Which confusion cell is open: from the URL (?true=&pred=) the first time, then from the widgets


def select_cell(true_class: int, predicted_class: int) -> None:
    """Open the (true, predicted) cell in the gallery (the URL follows when the gallery is drawn)."""
    st.session_state["mistakes_true"] = int(true_class)
    st.session_state["mistakes_predicted"] = int(predicted_class)
    st.session_state["mistakes_shown"] = GALLERY_PAGE


def cell_from_url() -> tuple[int, int]:
    """The cell a shared link asks for, else the most confused pair; a bad link gets a warning."""
    pairs = evaluation.most_confused(labels, predicted, top=1, num_classes=len(names))
    default = pairs[0][:2] if pairs else (0, 0)
    if "true" not in st.query_params and "pred" not in st.query_params:
        return default
    try:
        wanted = int(st.query_params.get("true", "")), int(st.query_params.get("pred", ""))
        if not all(0 <= value < len(names) for value in wanted):
            raise ValueError
        return wanted
    except ValueError:
        st.warning(f"The link's confusion cell (true={st.query_params.get('true')!r}, "
                   f"pred={st.query_params.get('pred')!r}) is not two class numbers 0–{len(names) - 1}; showing the "
                   "most confused pair instead.")
        return default


if "mistakes_true" not in st.session_state or "mistakes_predicted" not in st.session_state:
    select_cell(*cell_from_url())


def cell_clicked() -> None:
    """A click on the heatmap selects one invisible marker per cell: x is the predicted, y the true class."""
    points = st.session_state["mistakes_matrix"].selection.points
    shown = [as_chart_text(name) for name in names]  # the heatmap's categories, as the chart shows them
    if points and str(points[0].get("y")) in shown and str(points[0].get("x")) in shown:
        select_cell(shown.index(str(points[0]["y"])), shown.index(str(points[0]["x"])))


# ## The matrix, the most confused pairs and the images of one cell (rerun on their own)


@st.fragment
def cell_explorer() -> None:
    matrix_column, pairs_column = st.columns([2, 1], gap="large")
    with matrix_column:
        st.subheader("Confusion matrix")
        normalized = st.toggle("Show each row as fractions of the true class (row-normalised)",
                               key="mistakes_normalized")
        matrix = evaluation.confusion_matrix(labels, predicted, num_classes=len(names))
        st.plotly_chart(plots.confusion_heatmap(matrix, names, normalized=normalized), key="mistakes_matrix",
                        on_select=cell_clicked, selection_mode="points")
        st.caption(concepts.note("confusion") + " The diagonal (outlined in green, counts in bold): right answers; "
                   "the other cells, shaded red (darker = more): mistakes. **Click a cell** to see its images below, "
                   "or choose its two classes with the keyboard in *The images of one cell*.")
        matrix_table(matrix)
    with pairs_column:
        st.subheader("Most confused pairs")
        st.caption("true → predicted: how many test images. Click one to see them.")
        for true_class, predicted_class, count in evaluation.most_confused(labels, predicted, top=PAIRS_SHOWN,
                                                                                 num_classes=len(names)):
            st.button(f"{as_text(names[true_class])} → {as_text(names[predicted_class])}: {count}",
                      key=f"mistakes_pair_{true_class}_{predicted_class}", on_click=select_cell,
                      args=(true_class, predicted_class), width="stretch")

    st.subheader("The images of one cell")
    true_column, predicted_column = st.columns(2)
    true_column.selectbox("True class (row)", range(len(names)), key="mistakes_true",
                          format_func=lambda k: names[k])
    predicted_column.selectbox("Predicted class (column)", range(len(names)), key="mistakes_predicted",
                               format_func=lambda k: names[k])
    true_class, predicted_class = st.session_state["mistakes_true"], st.session_state["mistakes_predicted"]
    st.query_params["true"], st.query_params["pred"] = str(true_class), str(predicted_class)
    cell = evaluation.indices_for_cell(labels, predicted, true_class, predicted_class)
    kind = "right answers" if true_class == predicted_class else "mistakes"
    st.markdown(f"**{len(cell)}** test images are **{as_text(names[true_class])}** predicted as "
                f"**{as_text(names[predicted_class])}** ({kind}).")
    shown = cell[: st.session_state.setdefault("mistakes_shown", GALLERY_PAGE)]
    if len(shown):  # one element holding all the pictures (they wrap), not a grid of columns: cheaper to draw
        st.image([plots.enlarge(data.x_test[index], 4) for index in shown], width=112,
                 caption=[f"#{index} · confidence {final[index][predicted_class]:.0%}" for index in shown],
                 alt=[f"Test image {index}: true {names[true_class]}, predicted {names[predicted_class]}, "
                      f"{final[index][predicted_class]:.0%} confident" for index in shown])
    if len(shown):
        open_column, link_column = st.columns([1, 2], vertical_alignment="bottom")
        opened = open_column.selectbox("Open one of these images", shown, key=f"mistakes_open_{true_class}_{predicted_class}",
                                       format_func=lambda index: f"Test image #{index}")
        with link_column:
            layout.page_link("app_pages/predict.py", f"Open test image #{opened} on the Predict page",
                             {"model": card.id, "image": int(opened)})
        st.caption(f"Showing {len(shown)} of {len(cell)}, in test-set order. The number is the image's index in "
                   "x_test (open it on the Predict page); the percentage is the probability the model gave to "
                   f"{as_text(names[predicted_class])}.")
    if len(cell) > len(shown):
        st.button(f"Show {min(GALLERY_PAGE, len(cell) - len(shown))} more", key="mistakes_more",
                  on_click=lambda: st.session_state.update(mistakes_shown=len(shown) + GALLERY_PAGE))


cell_explorer()

# ## Per class

st.subheader("Per class")
metrics = evaluation.per_class_metrics(labels, predicted, num_classes=len(names))
percent = st.column_config.ProgressColumn(min_value=0.0, max_value=1.0, format="percent")
st.dataframe(
    [{"class": names[k], "test images": int(metrics["support"][k]),
      **{column: round(float(metrics[column][k]), 3) for column in ("precision", "recall", "accuracy")}}
     for k in range(len(names))],
    hide_index=True, key="mistakes_per_class",
    column_config={"precision": percent, "recall": percent, "accuracy": percent})
st.caption("**Precision**: of the images the model called this class, the fraction that really are. **Recall**: of "
           "the images of this class, the fraction the model found. A class's **accuracy** (right answers among "
           "its own images) is the same number as its recall.")

# ## The worst mistakes: the largest losses

st.subheader("The mistakes with the largest loss")
st.caption("Wrong answers sorted by their loss, −log(probability given to the true class), largest first: the "
           "images whose true class got the lowest probability. Red bar: the prediction; blue bar: the true class. "
           "Some are badly written or mislabelled images.")


@st.cache_data(show_spinner=False, max_entries=32)
def worst_png(model_id: str, created: str, indices: tuple) -> bytes:
    """These test images beside their probabilities, in the tutorial's style, as one PNG (cached per model)."""
    chosen = list(indices)
    figure = plots.prediction_grid(data.x_test[chosen], final[chosen], labels[chosen], names, rows=2, columns=3,
                                   titles=[f"#{index}" for index in chosen])
    return plots.figure_png(figure, dpi=90)


worst = evaluation.confident_mistakes(labels, final, k=WORST_SHOWN)
if len(worst):
    # One picture rather than six interactive charts: this page is opened by a whole class at once.
    st.image(worst_png(card.id, card.created, tuple(int(index) for index in worst)),
             caption="Test images " + ", ".join(f"#{index}" for index in worst) + " (left to right, top to bottom): "
                     "predicted label, its probability and (the true label).",
             alt=f"The {len(worst)} mistakes with the largest loss, each image with its probabilities: " + "; ".join(
                 f"test image {index}, predicted {names[predicted[index]]} ({final[index][predicted[index]]:.0%}), "
                 f"true {names[labels[index]]}" for index in worst))
else:
    st.success("No mistakes on the test set.")

# ## How the matrix changed while the model trained


@st.fragment
def matrix_by_epoch() -> None:
    st.subheader("The confusion matrix epoch by epoch")
    epochs = len(probabilities)
    epoch = st.slider("After epoch", 1, epochs, epochs, key="mistakes_epoch",
                      help="The test-set predictions saved after each epoch of training. Watch how the "
                           "mistakes change, but choose the number of epochs by the validation curves on the Train "
                           "page, not by these test figures.")
    matrices = evaluation.per_epoch_confusion(labels, probabilities)
    at_epoch = evaluation.predicted_labels(probabilities[epoch - 1])
    st.caption(f"After epoch {epoch}: test accuracy {evaluation.accuracy(labels, at_epoch):.2%}, "
               f"{int((at_epoch != labels).sum()):,} mistakes.")
    st.plotly_chart(plots.confusion_heatmap(matrices[epoch - 1], names), key="mistakes_epoch_matrix")
    matrix_table(matrices[epoch - 1], f"The confusion matrix after epoch {epoch} as a table")


if len(probabilities) > 1:
    matrix_by_epoch()
else:
    st.caption("This model was trained for one epoch, so there is no epoch-by-epoch confusion matrix.")
