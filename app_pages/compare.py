"""Compare: two stored models side by side, and the test images where they disagree."""

import pandas as pd
import streamlit as st

from dashboard import layout, loaders, url_choices
from dashboard.compare_curves import compare_curves
from mnistlib import concepts, evaluation, plots, store
from mnistlib.names import as_text

GALLERY_SIZE = 30

layout.setup_page("Compare", "⚖️")
st.title("Compare two models")
name = url_choices.chosen_dataset()
cards = loaders.list_models(name)
if len(cards) < 2:
    st.info(f"Comparing needs two trained models of this dataset; there {'is' if len(cards) == 1 else 'are'} "
            f"{len(cards) or 'none'} so far. Train another one on the Train page — for example with a different "
            "number of epochs, fewer hidden units, or the CNN — then come back.")
    layout.page_link("app_pages/train.py", "Go to Train →")
    st.stop()
by_id = {card.id: card for card in cards}


def pick_model(column, label: str, key: str, parameter: str, default: str):
    """A select box of stored models whose choice is kept in the URL (?a= / ?b=); returns the card."""
    if key not in st.session_state:
        wanted = st.query_params.get(parameter)
        if wanted is not None and wanted not in by_id:
            st.warning(f"The link's model {parameter}={as_text(repr(wanted))} is not stored here; showing {as_text(by_id[default].name)}.")
        st.session_state[key] = wanted if wanted in by_id else default
    if st.session_state[key] not in by_id:  # deleted since it was chosen
        st.session_state[key] = default
    column.selectbox(label, list(by_id), key=key, format_func=lambda model_id: by_id[model_id].label())
    st.query_params[parameter] = st.session_state[key]
    return loaders.open_card(st.session_state[key]) or st.stop()


left, right = st.columns(2, gap="large")
# Newest first: by default A is the older of the two newest models, B the newest other than A.
first = pick_model(left, "Model A", "compare_a", "a", cards[1].id)
second = pick_model(right, "Model B", "compare_b", "b", next(card.id for card in cards if card.id != first.id))
if first.id == second.id:
    st.info("A and B are the same model: pick two different ones to see where they differ.")


def _right_answers(labels, predicted, indices) -> int:
    """How many of the images at indices a model got right (to move into mnistlib.evaluation)."""
    return round(evaluation.accuracy(labels[indices], predicted[indices]) * len(indices))


def predictions(card):
    """The card's test set and its final probabilities (M, classes) and labels, or an error and None."""
    data = loaders.require_dataset(card.dataset, card.subset)
    try:
        probabilities = loaders.model_probabilities(card.id, card.created)[-1]
    except store.CorruptModelError:
        st.error(f"{as_text(card.name)}: {concepts.DAMAGED_MODEL}")
        st.stop()
    if probabilities.shape != (len(data.y_test), len(data.class_names)):
        st.error(f"{as_text(card.name)}: its stored predictions cover {len(probabilities):,} test images, but its test set "
                 f"has {len(data.y_test):,}. {concepts.DAMAGED_MODEL}")
        st.stop()
    return data, probabilities, evaluation.predicted_labels(probabilities)


# ## Side by side: accuracy and confusion matrices; then both training curves on one chart

results = [predictions(card) for card in (first, second)]
same_test_set = first.subset == second.subset and len(results[0][0].y_test) == len(results[1][0].y_test)
accuracies = [evaluation.accuracy(data.y_test, predicted) for data, _, predicted in results]
for letter, card, column, accuracy, (data, _, predicted) in zip("AB", (first, second), (left, right), accuracies,
                                                                   results, strict=True):
    with column:
        validation = card.history[-1].get("val_accuracy") if card.history else None
        test_metric, validation_metric = st.columns(2)
        test_metric.metric(f"Test accuracy of {letter}", f"{accuracy:.2%}")
        # The difference is shown on validation, the figure to choose by, in percentage points.
        first_validation = first.history[-1].get("val_accuracy") if first.history else None
        difference = (f"{(validation - first_validation) * 100:+.2f} points vs A" if letter == "B"
                      and validation is not None and first_validation is not None else None)
        validation_metric.metric(f"Validation accuracy of {letter}",
                                 "no split" if validation is None else f"{validation:.2%}", delta=difference,
                                 help="After the last epoch, on the training images held back for validation.")
        architecture = "CNN" if card.spec.get("architecture") == "cnn" else "Dense"
        st.caption(f"{architecture} · {card.epochs_run} epoch(s) · "
                   f"{card.training_seconds:.0f} s of training · tested on {len(data.y_test):,} images "
                   f"({card.subset} set)")
        st.plotly_chart(plots.confusion_heatmap(evaluation.confusion_matrix(data.y_test, predicted, len(data.class_names)),
                                                data.class_names), key=f"compare_matrix_{letter}")

st.caption("The two matrices have their own colour scales: compare the numbers in the cells, not the shades. "
           "To decide which settings are better, compare validation accuracy: settings picked by test accuracy are tuned "
           "to the test set, which then no longer gives a fair final check.")
compare_curves([("A", first, len(results[0][0].y_train)), ("B", second, len(results[1][0].y_train))])
st.caption(concepts.note("training_figures"))

st.subheader("Accuracy per class")
names = list(results[0][0].class_names)
per_class = [evaluation.per_class_metrics(data.y_test, predicted, len(names))["accuracy"]
             for data, _, predicted in results]
chart_column, table_column = st.columns([3, 2], gap="large")
with chart_column:
    # Accuracies near 100% make equal-looking bars; the share of wrong answers shows the differences.
    st.plotly_chart(plots.per_class_error_bars([1 - per_class[0], 1 - per_class[1]], names),
                    key="compare_per_class_chart")
    st.caption("Lower is better. Each bar is lettered with its model: A plain vermillion (red-orange), B hatched blue. Hover a bar "
               "for its value; the table beside it has every number.")
with table_column:
    percent = st.column_config.NumberColumn(format="percent")
    st.dataframe(pd.DataFrame({"class": names, "A": per_class[0].round(4), "B": per_class[1].round(4),
                               "B − A": (per_class[1] - per_class[0]).round(4)}),
                 hide_index=True, key="compare_per_class",
                 column_config={"A": percent, "B": percent, "B − A": percent})

# ## Image by image: only when both were tested on the same images

if not same_test_set:
    st.warning(f"A was tested on the {first.subset} test set ({len(results[0][0].y_test):,} images) and B on the "
               f"{second.subset} one ({len(results[1][0].y_test):,} images), so they cannot be compared image by "
               "image. The accuracies above are each on its own test set. Pick two models trained on the same data "
               "to see where they disagree.")
    st.stop()

data = results[0][0]
labels = data.y_test
(_, first_probabilities, first_predicted), (_, second_probabilities, second_predicted) = results
disagree = evaluation.disagreements(first_predicted, second_predicted)

st.subheader("Where they disagree")
st.markdown(f"The two models give different answers on **{len(disagree):,}** of {len(labels):,} test images.")
if len(disagree):
    first_right = _right_answers(labels, first_predicted, disagree)
    second_right = _right_answers(labels, second_predicted, disagree)
    st.caption(f"Of these, A is right on {first_right:,}, B on {second_right:,}, and both are wrong (differently) on "
               f"{len(disagree) - first_right - second_right:,}.")
shown = disagree[:GALLERY_SIZE]
if len(shown):  # one element holding all the pictures (they wrap), not a grid of columns: cheaper to draw
    st.image([plots.enlarge(data.x_test[index], 4) for index in shown], width=112,
             caption=[f"#{index} · true {as_text(names[labels[index]])} · A {as_text(names[first_predicted[index]])} · "
                      f"B {as_text(names[second_predicted[index]])}" for index in shown],
             alt=[f"Test image {index}: true {names[labels[index]]}, model A says {names[first_predicted[index]]}, "
                  f"model B says {names[second_predicted[index]]}" for index in shown])
if len(disagree) > len(shown):
    st.caption(f"Showing the first {len(shown)} of {len(disagree):,}, in test-set order.")


# ## One image, both histograms (reruns on its own)


def next_disagreement() -> None:
    """Jump to the next test image (after the current one, wrapping) on which the models disagree."""
    later = disagree[disagree > st.session_state["compare_index"]]
    st.session_state["compare_index"] = int(later[0] if len(later) else disagree[0])


@st.fragment
def one_image() -> None:
    st.subheader("One image, both histograms")
    if "compare_index" not in st.session_state and "compare_index" not in st.query_params and len(disagree):
        st.session_state["compare_index"] = int(disagree[0])
    index = url_choices.chosen_image_index(len(labels), key="compare_index")
    number, button = st.columns([3, 1], vertical_alignment="bottom")
    number.number_input("Test image index", 0, len(labels) - 1, key="compare_index")
    button.button("Next disagreement ▶", key="compare_next", on_click=next_disagreement, disabled=not len(disagree),
                  width="stretch")
    picture, first_column, second_column = st.columns([1, 2, 2])
    picture.image(plots.enlarge(data.x_test[index], 5), width=140,
                  caption=f"x_test[{index}] · true label {as_text(names[labels[index]])}",
                  alt=f"Test image {index}, enlarged: true label {names[labels[index]]}")
    for letter, column, probabilities in (("A", first_column, first_probabilities),
                                          ("B", second_column, second_probabilities)):
        guess = int(evaluation.predicted_labels(probabilities[index : index + 1])[0])
        column.plotly_chart(plots.probability_bar(probabilities[index], names, int(labels[index]), height=260,
                                                  title=f"Model {letter}: {names[guess]} "
                                                        f"({probabilities[index][guess]:.0%})"),
                            key=f"compare_histogram_{letter}")


one_image()
