"""Inside the network, the Streamlit side: each element is one call for a page (Draw, Predict, Model insight).
The computing is mnistlib.insight and mnistlib.hidden_space; the figures are mnistlib.insight_figures."""

import numpy as np
import streamlit as st

from dashboard import layout, loaders, map_keyboard
from mnistlib import concepts, insight, models, plots, store
from mnistlib import figure_summaries as summaries
from mnistlib import insight_figures as figures
from mnistlib.names import as_text

TOP_UNITS = 6  # units shown toward the predicted class and toward the runner-up
MAX_SELECTED = 48  # images shown for a lasso selection on the map


## Why this answer, for one image


ONE_EPOCH_NOTE = ("This model trained for only one epoch, so what you see here is an early stage: more epochs "
                  "usually make its unit templates cleaner and its answers surer.")


def explain_image(model, image, class_names, key: str, true_label: int | None = None, epochs_run: int | None = None):
    """Hidden units, contributions, saliency (and a CNN's feature maps and Grad-CAM) for one image (28, 28) uint8;
    returns the insight.Explanation, or None after a message when the model cannot be explained."""
    try:
        explanation = insight.explain(model, image, class_names)
    except ValueError as error:
        st.warning(str(error))
        return None
    predicted, runner_up, probabilities = explanation.predicted, explanation.runner_up, explanation.probabilities
    verdict = "" if true_label is None else (" · right ✅" if predicted == true_label else
                                             f" · wrong ❌ (true: {as_text(class_names[true_label])})")
    st.markdown(f"**Predicted: {as_text(class_names[predicted])}** ({probabilities[predicted]:.1%}) · runner-up: "
                f"{as_text(class_names[runner_up])} ({probabilities[runner_up]:.1%}){verdict}")
    for note in explanation.notes + ((ONE_EPOCH_NOTE,) if epochs_run == 1 else ()):
        st.info(note)
    parts = insight.structure(model)
    names = ["Hidden units", "Pixels (saliency)"] + (["Convolutions"] if parts.convolutions else [])
    tabs = st.tabs(names)
    with tabs[0]:
        _hidden_units(model, image, explanation, class_names, key)
    with tabs[1]:
        st.plotly_chart(figures.saliency_figure(image, explanation.saliency, explanation.gradient_times_input,
                                                class_names[predicted]), key=f"{key}_saliency")
        st.caption(figures.SALIENCY_HOW_TO_READ + " The saliency is the gradient of the probability of "
                   f"{as_text(class_names[predicted])} with respect to each pixel (pixels scaled 0–1), computed with "
                   "`tf.GradientTape`. " + summaries.saliency_summary(explanation.gradient_times_input,
                                                                      as_text(class_names[predicted])))
    if parts.convolutions:
        with tabs[2]:
            _convolutions(model, image, explanation, class_names, key)
    return explanation


def _hidden_units(model, image, explanation, class_names, key: str) -> None:
    """The activation grid and the units that pushed hardest toward the answer and the runner-up."""
    if explanation.contributions is None:
        st.caption("This model has no hidden Dense layer, so there are no hidden units to show.")
        return
    units = len(explanation.activations)
    toward = {target: explanation.top_units(target, TOP_UNITS)
              for target in (explanation.predicted, explanation.runner_up)}
    st.plotly_chart(figures.activation_grid(explanation.activations, highlight=toward[explanation.predicted]),
                    key=f"{key}_activations")
    active = int(np.count_nonzero(explanation.activations))
    st.caption(f"The {units} units of the last hidden layer for this image, unit 0 top left: darker means a larger "
               f"output; {units - active} of them are exactly 0 (ReLU). Outlined in red: the units that pushed "
               f"hardest toward {as_text(class_names[explanation.predicted])}. "
               + summaries.activation_summary(explanation.activations))
    # A toggle, not an expander: the explanation may itself be in one, and Streamlit does not nest expanders.
    if st.toggle("Show the activations as a table", key=f"{key}_activations_table"):
        # The class name as typed: a table shows text as it is (no Markdown to escape).
        st.dataframe(summaries.activation_table(explanation.activations,
                                                explanation.contributions[:, explanation.predicted],
                                                class_names[explanation.predicted]),
                     hide_index=True, key=f"{key}_activations_rows")
    fixed = insight.templates_are_fixed(model)
    columns = st.columns(2)
    for column, (target, chosen) in zip(columns, toward.items(), strict=True):
        with column:
            st.markdown(f"**Pushed toward {as_text(class_names[target])}**")
            if len(chosen) == 0:
                st.caption(f"No unit pushed {as_text(class_names[target])}'s score up for this image.")
                continue
            templates = insight.unit_templates(model, chosen, image=None if fixed else image)
            pushes = explanation.contributions[chosen, target]
            st.image(figures.template_pictures(templates), caption=figures.unit_titles(chosen, pushes), width=84,
                     alt=[f"The template of hidden unit {int(unit)}, in red and blue" for unit in chosen])
    what = ("each unit's 784 weights from the pixels, laid out as 28×28" if fixed else
            "what each unit computes from this image's pixels (the gradient of its weighted sum), laid out as 28×28")
    st.caption(f"Each picture is a unit's template: {what}; red pixels raise the unit's sum when inked, blue ones "
               "lower it. The number is the unit's contribution: its activation × its weight to that class's "
               "output. Summed over all units, plus the output bias, the contributions are the scores that "
               "softmax turns into probabilities.")


def _convolutions(model, image, explanation, class_names, key: str) -> None:
    """Each convolution's feature maps and Grad-CAM over the image."""
    st.plotly_chart(figures.overlays_figure(image, [(f"Grad-CAM for {class_names[explanation.predicted]}",
                                                     explanation.grad_cam, "heat")]), key=f"{key}_grad_cam")
    answer = as_text(class_names[explanation.predicted])
    st.caption(figures.GRAD_CAM_HOW_TO_READ + " " + summaries.grad_cam_summary(explanation.grad_cam, answer))
    if st.toggle("Show Grad-CAM's share of the heat as a table", key=f"{key}_grad_cam_table"):
        percent = st.column_config.NumberColumn(format="percent")
        table = summaries.heat_table(explanation.grad_cam)
        st.dataframe(table, hide_index=True, key=f"{key}_grad_cam_rows",
                     column_config={column: percent for column in list(table)[1:]})
    for name, maps in insight.feature_maps(model, image):
        height, width, filters = maps.shape
        st.markdown(f"**{name}**: {filters} feature maps of {height}×{width}")
        st.image(plots.figure_png(figures.feature_maps_figure(maps), dpi=70),
                 alt=f"{filters} feature maps of {height}×{width} from {name}")
        st.caption(summaries.feature_maps_summary(maps))
    st.caption("Each square is one filter's output over the image after ReLU (bright = strong response, black = "
               "0), all on one scale per layer. The first convolution responds to small strokes and edges; the "
               "second, after pooling, to combinations of them on a coarser grid.")


WHY = "Why this answer? The hidden units and pixels behind it"


def explanation_expander(model, image, class_names, key: str, expanded: bool = False, epochs_run: int | None = None):
    """explain_image in an expander (label WHY) whose work runs only while it is open; key: the expander's."""
    expander = st.expander(WHY, expanded=expanded, key=key, on_change="rerun")
    with expander:
        if expander.open:
            explain_image(model, image, class_names, key=f"{key}_image", epochs_run=epochs_run)


def why_this_answer(card, data, index: int, epoch: int, epochs: int, key: str) -> None:
    """Test image index explained by the saved model, in an expander whose work runs only while it is open.
    epoch: the epoch the page shows; epochs: how many it can show (the saved model is the last)."""
    expander = st.expander(WHY, key=key, on_change="rerun")
    with expander:
        if not expander.open:
            return
        if epoch < epochs:
            st.caption(f"This explains the saved model (after epoch {card.epochs_run}), not epoch {epoch} that the "
                       "histogram shows: only that epoch's predictions were kept, not its weights.")
        try:
            model = loaders.keras_model(card.id, card.created)
        except store.CorruptModelError:
            st.error(concepts.DAMAGED_MODEL)
            return
        explain_image(model, data.x_test[index], data.class_names, key=f"{key}_image",
                      true_label=int(data.y_test[index]), epochs_run=card.epochs_run)


## The hidden-space map of the test set


@st.cache_data(show_spinner="Computing every test image's hidden activations…", max_entries=8)
def hidden_space_points(model_id: str, created: str, dataset: str, subset: str) -> dict:
    """The test set in the hidden space: {"epochs": [...] or None, "points": (epochs, M, 2) float32,
    "explained": (2,) or None}; the map stored with the model (every epoch), else the final epoch's computed now."""
    images = loaders.load_dataset(dataset, subset).x_test
    stored = store.load_hidden_map(model_id)
    if stored is not None and stored[1].shape[1] == len(images):
        return {"epochs": [int(epoch) for epoch in stored[0]], "points": stored[1], "explained": None}
    activations = insight.hidden_activations(loaders.keras_model(model_id, created), images)
    projection = insight.fit_projection(activations)
    return {"epochs": None, "points": projection.apply(activations)[None], "explained": projection.explained}


@st.cache_data(show_spinner=False, max_entries=8)
def predicted_per_epoch(model_id: str, created: str, dataset: str, subset: str) -> np.ndarray:
    """(epochs, M) int64 predicted labels after each epoch (stored probabilities), or (1, M) computed now by the
    saved model when the stored ones do not fit this test set."""
    data = loaders.load_dataset(dataset, subset)
    try:
        probabilities = loaders.model_probabilities(model_id, created)
        if probabilities.shape[1:] == (len(data.y_test), len(data.class_names)):
            return np.argmax(probabilities, axis=2)
    except store.CorruptModelError:
        pass
    model = loaders.keras_model(model_id, created)
    return np.concatenate([np.argmax(models.predict_images(model, data.x_test[start : start + 1000]), axis=1)
                           for start in range(0, len(data.x_test), 1000)])[None]


def hidden_space_map(card, data, key: str) -> None:
    """The test set's hidden activations as a 2-D map (PCA), coloured by true class, mistakes ringed, with an epoch
    slider when the model kept a map per epoch; a click or lasso shows those images."""
    try:
        space = hidden_space_points(card.id, card.created, card.dataset, card.subset)
        predicted = predicted_per_epoch(card.id, card.created, card.dataset, card.subset)
    except ValueError as error:  # e.g. a model without a hidden Dense layer
        st.info(str(error))
        return
    except store.CorruptModelError:
        st.error(concepts.DAMAGED_MODEL)
        return
    _map_view(card, data, space, predicted, key)


@st.fragment
def _map_view(card, data, space, predicted, key: str) -> None:
    """The slider, the map and the selected images (a fragment: moving the slider redraws only this part)."""
    points, epochs = space["points"], space["epochs"] or [card.epochs_run]
    epoch = epochs[-1]
    if len(epochs) > 1:
        epoch = st.select_slider("After epoch", epochs, value=epochs[-1], key=f"{key}_epoch",
                                 help="The same two directions for every epoch, so you see the clusters form.")
    frame = epochs.index(epoch)
    predicted_then = predicted[min(epoch, len(predicted)) - 1]  # after that epoch (or the saved model's only)
    mistakes = (f"the images the model got wrong after epoch {epoch}" if epoch <= len(predicted) else
                "the images the saved model gets wrong")
    # The map and its notes first, the keyboard's box below them; the box is drawn first, since the map rings what
    # it chooses.
    map_area = st.container()
    chosen, nearest = map_keyboard.keyboard_choice(points[frame], data.y_test, data.class_names, key=f"{key}_keys")
    with map_area:
        event = st.plotly_chart(
            figures.hidden_space_figure(points[frame], data.y_test, predicted_then, data.class_names,
                                        ranges=figures.padded_ranges(points), chosen=chosen),
            key=f"{key}_map", on_select="rerun", selection_mode=("points", "box", "lasso"))
        units = card.spec.get("hidden_units", 128)
        share = ("" if space["explained"] is None else
                 " ({:.0%} and {:.0%} of their variance)".format(*space["explained"]))
        st.caption(f"Each dot is one of the {len(data.y_test):,} test images, placed by the {units} activations of the "
                   f"network's last hidden layer after epoch {epoch}, squeezed to two numbers by PCA: the two directions "
                   f"along which the activations after epoch {epochs[-1]} vary most{share}. **The axes are not pixels "
                   "and not classes**: they are mixtures of hidden units, and the colours and shapes (true classes, named in the "
                   "legend) are added afterwards. Images with similar activations land close together, though dots that overlap here can "
                   f"still differ along directions the map leaves out. Ringed dots are {mistakes}. "
                   "Click a dot to see its image, or choose the lasso in the chart's toolbar and draw "
                   "around a group to see them all; drag to zoom in, double-click to zoom out. Without the mouse, choose "
                   "a class or an image and its nearest points in the box below.")
        if space["epochs"] is None:
            st.caption("This model was saved before MNIST Lab kept a map after every epoch, so only its final epoch is "
                       "shown (computed now); newer models keep one after every epoch, with a slider.")
        elif card.parent is not None:  # One more epoch / +N epochs: the parent's map had other axes
            st.caption("This model continued another one, so its map was kept only after the epochs it trained "
                       f"itself (from epoch {epochs[0]} on).")
        elif len(epochs) == 1 or card.epochs_run == 1:
            st.caption("This model trained for a single epoch, so there is no slider and its clusters may still be "
                       "loose.")
        elif epochs != list(range(1, epochs[-1] + 1)):
            st.caption(f"To keep the map small, this model kept it after {len(epochs)} of its {epochs[-1]} epochs.")
    map_keyboard.map_as_tables(points[frame], data.y_test, predicted_then, data.class_names)
    # A click or lasso on the map wins over the keyboard's choice (which the map rings in blue).
    selected = figures.selected_indices(event.selection.points if event else []) or chosen
    if nearest and selected is chosen:
        map_keyboard.nearest_table(points[frame], chosen[0], nearest, data.y_test, predicted_then, data.class_names,
                                   key=key)
    if selected:
        _selected_images(selected, card, data, predicted_then)


def _selected_images(selected, card, data, predicted) -> None:
    """The selected test images with true and predicted labels; a link to Predict for one of them."""
    shown = selected[:MAX_SELECTED]
    names = data.class_names
    st.markdown(f"**{len(selected)} image(s) selected**" + (f", the first {MAX_SELECTED} shown" if len(selected) >
                                                                 MAX_SELECTED else ""))
    st.image([plots.enlarge(data.x_test[index], 3) for index in shown], width=84,
             caption=[f"#{index}: {as_text(names[data.y_test[index]])} → {as_text(names[predicted[index]])}"
                      for index in shown],
             alt=[f"Test image {index}: true {names[data.y_test[index]]}, predicted {names[predicted[index]]}"
                  for index in shown])
    layout.page_link("app_pages/predict.py", f"Open test image {shown[0]} on the Predict page", {"model": card.id, "image": shown[0]})
