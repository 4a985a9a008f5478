"""Mistakes: the confusion matrix, the images behind each cell, per-class figures and the worst mistakes."""

import streamlit as st

import ui
from mnistlib import concepts, evaluation, plots

ui.setup_page("Mistakes", "🔍")
st.title("Where the model goes wrong")
name = ui.chosen_dataset()
card = ui.model_picker(name, key="mistakes_model") or ui.require_model(name)
data = ui.require_dataset(card.dataset, card.subset)
probabilities = ui.model_probabilities(card.id, card.created)
final = probabilities[-1]
labels = data.y_test
predicted = evaluation.predicted_labels(final)
names = list(data.class_names)
st.metric("Test accuracy", f"{evaluation.accuracy(labels, predicted):.2%}",
          help=f"{int((predicted != labels).sum()):,} of {len(labels):,} test images are wrong.")


def select_cell(true_class: int, predicted_class: int) -> None:
    """Open a (true, predicted) cell in the gallery and keep it in the URL."""
    st.session_state["mistakes_true"] = names[true_class]
    st.session_state["mistakes_predicted"] = names[predicted_class]


# The selected cell comes from the URL (?true=&pred=) the first time, then from the widgets.
if "mistakes_true" not in st.session_state:
    pair = evaluation.most_confused(labels, predicted, top=1)
    default = pair[0][:2] if pair else (0, 0)
    try:
        wanted = (int(st.query_params.get("true", default[0])), int(st.query_params.get("pred", default[1])))
        if not all(0 <= value < 10 for value in wanted):
            raise ValueError
    except ValueError:
        st.warning("The link's confusion cell (true=…, pred=…) is not two class numbers 0–9; showing the most "
                   "confused pair instead.")
        wanted = default
    select_cell(*wanted)

# ## The confusion matrix

matrix_column, side_column = st.columns([3, 2])
with matrix_column:
    st.subheader("Confusion matrix")
    normalized = st.toggle("Show fractions of each true class (row-normalised)", key="mistakes_normalized")
    matrix = evaluation.confusion_matrix(labels, predicted)
    event = st.plotly_chart(plots.confusion_heatmap(matrix, names, normalized=normalized), key="mistakes_matrix",
                            on_select="rerun", selection_mode="points")
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    if points and "x" in points[0] and "y" in points[0]:
        clicked = (names.index(str(points[0]["y"])), names.index(str(points[0]["x"])))
        if st.session_state.get("mistakes_last_click") != clicked:
            st.session_state["mistakes_last_click"] = clicked
            select_cell(*clicked)
    st.caption(concepts.note("confusion") + " Click a cell to see its images.")
with side_column:
    st.subheader("Most confused pairs")
    for true_class, predicted_class, count in evaluation.most_confused(labels, predicted, top=8):
        st.button(f"{names[true_class]} → {names[predicted_class]}: {count}",
                  key=f"mistakes_pair_{true_class}_{predicted_class}", on_click=select_cell,
                  args=(true_class, predicted_class), width="stretch")

# ## The images behind one cell

st.subheader("Images of one cell")
left, right = st.columns(2)
left.selectbox("True class", names, key="mistakes_true")
right.selectbox("Predicted class", names, key="mistakes_predicted")
true_class, predicted_class = names.index(st.session_state["mistakes_true"]), names.index(st.session_state["mistakes_predicted"])
st.query_params["true"], st.query_params["pred"] = str(true_class), str(predicted_class)
cell = evaluation.indices_for_cell(labels, predicted, true_class, predicted_class)
kind = "right answers" if true_class == predicted_class else "mistakes"
st.markdown(f"**{len(cell)}** test images are **{names[true_class]}** predicted as **{names[predicted_class]}** "
            f"({kind}).")
shown = cell[:40]
columns = st.columns(8)
for position, index in enumerate(shown):
    columns[position % 8].image(plots.enlarge(data.x_test[index], 3),
                                caption=f"#{index} · {final[index][predicted_class]:.0%}")
if len(cell) > len(shown):
    st.caption(f"Showing the first {len(shown)} of {len(cell)}.")

# ## Per class, the worst mistakes, and how the matrix changed

st.subheader("Per class")
metrics = evaluation.per_class_metrics(labels, predicted)
st.dataframe([{"class": names[k], "precision": round(float(metrics["precision"][k]), 3),
               "recall (= accuracy on this class)": round(float(metrics["recall"][k]), 3),
               "test images": int(metrics["support"][k])} for k in range(10)], hide_index=True)
st.caption("Precision: of the images predicted as this class, the fraction that really are. Recall: of the images "
           "of this class, the fraction found.")

st.subheader("The most confident mistakes")
st.caption("Wrong answers given with the highest confidence (the largest losses, −log p(true class)).")
worst = evaluation.confident_mistakes(labels, final, k=6)
for row_start in range(0, len(worst), 3):
    for column, index in zip(st.columns(3), worst[row_start : row_start + 3], strict=False):
        with column:
            st.image(plots.enlarge(data.x_test[index], 4), caption=f"#{index}: true {names[labels[index]]}, "
                     f"predicted {names[predicted[index]]} ({final[index][predicted[index]]:.0%})")
            st.plotly_chart(plots.probability_bar(final[index], names, int(labels[index]), height=200),
                            key=f"mistakes_worst_{index}")

if len(probabilities) > 1:
    st.subheader("The confusion matrix epoch by epoch")
    epoch = st.slider("After epoch", 1, len(probabilities), len(probabilities), key="mistakes_epoch")
    per_epoch = evaluation.per_epoch_confusion(labels, probabilities[epoch - 1 : epoch])[0]
    st.plotly_chart(plots.confusion_heatmap(per_epoch, names), key="mistakes_epoch_matrix")

@st.cache_data(show_spinner=False, max_entries=8)
def predictions_csv(model_id: str, created: str) -> str:
    """The CSV of all test predictions of one model (built once per model)."""
    return evaluation.predictions_csv(labels, final, names)


st.download_button("Download all test predictions (CSV)", predictions_csv(card.id, card.created),
                   file_name=f"{card.dataset}-{card.id}-predictions.csv", mime="text/csv", key="mistakes_csv")
