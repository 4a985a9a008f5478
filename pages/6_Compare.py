"""Compare: two stored models side by side, and the test images where they disagree."""

import streamlit as st

import ui
from mnistlib import evaluation, plots

ui.setup_page("Compare", "⚖️")
st.title("Compare two models")
name = ui.chosen_dataset()
cards = ui.list_models(name)
if len(cards) < 2:
    st.info("Comparing needs two trained models of this dataset. Train another one (for example with a different "
            "number of epochs, or the CNN) on the Train page.")
    ui.page_link("pages/2_Train.py", "Go to Train →")
    st.stop()
by_id = {card.id: card for card in cards}
left, right = st.columns(2)
first = by_id[left.selectbox("Model A", list(by_id), index=1, key="compare_a", format_func=lambda i: by_id[i].label())]
second = by_id[right.selectbox("Model B", list(by_id), index=0, key="compare_b", format_func=lambda i: by_id[i].label())]
if first.test_size != second.test_size or first.subset != second.subset:
    st.warning("These models were tested on different test sets (one on the small subset), so they cannot be "
               "compared image by image. Pick two models trained on the same data.")
    st.stop()
data = ui.require_dataset(first.dataset, first.subset)
labels, names = data.y_test, list(data.class_names)
results = []
for card, column in ((first, left), (second, right)):
    probabilities = ui.model_probabilities(card.id, card.created)
    predicted = evaluation.predicted_labels(probabilities[-1])
    results.append((probabilities[-1], predicted))
    with column:
        st.metric("Test accuracy", f"{evaluation.accuracy(labels, predicted):.2%}")
        st.caption(f"{card.spec.get('architecture', 'dense')} · {card.epochs_run} epochs · "
                   f"{card.training_seconds:.0f} s of training")
        st.plotly_chart(plots.training_curves(card.history), key=f"compare_curves_{card.id}_{column is left}")
        st.plotly_chart(plots.confusion_heatmap(evaluation.confusion_matrix(labels, predicted), names),
                        key=f"compare_matrix_{card.id}_{column is left}")

st.subheader("Accuracy per class")
per_class = [evaluation.per_class_metrics(labels, predicted)["accuracy"] for _, predicted in results]
st.dataframe([{"class": names[k], "model A": round(float(per_class[0][k]), 3), "model B": round(float(per_class[1][k]), 3),
               "B − A": round(float(per_class[1][k] - per_class[0][k]), 3)} for k in range(10)], hide_index=True)

st.subheader("Where they disagree")
disagree = evaluation.disagreements(results[0][1], results[1][1])
st.markdown(f"The two models give different answers on **{len(disagree)}** of {len(labels):,} test images.")
columns = st.columns(8)
for position, index in enumerate(disagree[:32]):
    columns[position % 8].image(plots.enlarge(data.x_test[index], 3),
                                caption=f"#{index} true {names[labels[index]]}: A {names[results[0][1][index]]}, "
                                        f"B {names[results[1][1][index]]}")

st.subheader("One image, both histograms")
index = st.number_input("Test image index", 0, len(labels) - 1, int(disagree[0]) if len(disagree) else 0,
                        key="compare_index")
st.image(plots.enlarge(data.x_test[index], 4), caption=f"x_test[{index}], true label {names[labels[index]]}")
for (probabilities, _), label, column in zip(results, ("A", "B"), st.columns(2), strict=True):
    column.plotly_chart(plots.probability_bar(probabilities[index], names, int(labels[index]), title=f"Model {label}"),
                        key=f"compare_histogram_{label}")
