"""Inside the network, the Streamlit side: each element is one call for a page (Draw, Predict, Model insight,
Train). The computing is mnistlib.insight and mnistlib.lr_finder; the figures are mnistlib.insight_figures."""

import numpy as np
import streamlit as st

import ui
from mnistlib import insight, lr_finder, plots, store
from mnistlib import insight_figures as figures

TOP_UNITS = 6  # units shown toward the predicted class and toward the runner-up
MAX_SELECTED = 48  # images shown for a lasso selection on the map


## Why this answer, for one image


def explain_image(model, image, class_names, key: str, true_label: int | None = None):
    """Hidden units, contributions, saliency (and a CNN's feature maps and Grad-CAM) for one image (28, 28) uint8;
    returns the insight.Explanation, or None after a message when the model cannot be explained."""
    try:
        explanation = insight.explain(model, image, class_names)
    except ValueError as error:
        st.warning(str(error))
        return None
    predicted, runner_up, probabilities = explanation.predicted, explanation.runner_up, explanation.probabilities
    verdict = "" if true_label is None else (" · right ✅" if predicted == true_label else
                                             f" · wrong ❌ (true: {class_names[true_label]})")
    st.markdown(f"**Predicted: {class_names[predicted]}** ({probabilities[predicted]:.1%}) · runner-up: "
                f"{class_names[runner_up]} ({probabilities[runner_up]:.1%}){verdict}")
    for note in explanation.notes:
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
                   f"{class_names[predicted]} with respect to each pixel (pixels scaled 0–1), computed with "
                   "`tf.GradientTape`.")
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
               f"hardest toward {class_names[explanation.predicted]}.")
    fixed = insight.templates_are_fixed(model)
    columns = st.columns(2)
    for column, (target, chosen) in zip(columns, toward.items(), strict=True):
        with column:
            st.markdown(f"**Pushed toward {class_names[target]}**")
            if len(chosen) == 0:
                st.caption(f"No unit pushed {class_names[target]}'s score up for this image.")
                continue
            templates = insight.unit_templates(model, chosen, image=None if fixed else image)
            pushes = explanation.contributions[chosen, target]
            st.image(figures.template_pictures(templates), caption=figures.unit_titles(chosen, pushes), width=84)
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
    st.caption(figures.GRAD_CAM_HOW_TO_READ)
    for name, maps in insight.feature_maps(model, image):
        height, width, filters = maps.shape
        st.markdown(f"**{name}**: {filters} feature maps of {height}×{width}")
        st.image(plots.figure_png(figures.feature_maps_figure(maps), dpi=70))
    st.caption("Each square is one filter's output over the image after ReLU (bright = strong response, black = "
               "0), all on one scale per layer. The first convolution responds to small strokes and edges; the "
               "second, after pooling, to combinations of them on a coarser grid.")


## The hidden-space map of the test set


@st.cache_data(show_spinner="Computing every test image's hidden activations…", max_entries=8)
def hidden_space_points(model_id: str, created: str, dataset: str, subset: str, _weights_per_epoch=None) -> dict:
    """The test set on the final epoch's two principal directions: points (epochs, M, 2) float32, explained (2,),
    units; each epoch when its weights are given (keyed by model id: a model's weights never change)."""
    model = ui.keras_model(model_id, created)
    images = ui.load_dataset(dataset, subset).x_test
    if _weights_per_epoch:
        per_epoch = insight.hidden_activations_per_epoch(model, _weights_per_epoch, images)
    else:
        per_epoch = insight.hidden_activations(model, images)[None]
    points, projection = insight.hidden_space(per_epoch)
    return {"points": points, "explained": projection.explained, "units": per_epoch.shape[2]}


def hidden_space_map(card, data, predicted, key: str, weights_per_epoch=None) -> list[int]:
    """The test set's hidden activations as a 2-D map (PCA), coloured by true class, mistakes ringed; an epoch
    slider when weights_per_epoch (one model.get_weights() list per epoch) is given. Returns the selected indices."""
    try:
        space = hidden_space_points(card.id, card.created, card.dataset, card.subset, weights_per_epoch)
    except ValueError as error:  # e.g. a model without a hidden Dense layer
        st.info(str(error))
        return []
    except store.CorruptModelError as error:
        st.error(str(error))
        return []
    points, epochs = space["points"], len(space["points"])
    epoch = epochs
    if epochs > 1:
        epoch = st.slider("After epoch", 1, epochs, epochs, key=f"{key}_epoch",
                          help="The same two directions for every epoch, so you see the clusters form.")
    event = st.plotly_chart(
        figures.hidden_space_figure(points[epoch - 1], data.y_test, predicted, data.class_names,
                                    ranges=figures.padded_ranges(points)),
        key=f"{key}_map", on_select="rerun", selection_mode=("points", "box", "lasso"))
    first, second = space["explained"]
    when = (f"after epoch {epoch} of {epochs}" if epochs > 1 else
            "after its last epoch (this model kept only its final weights, so there is no epoch slider)")
    st.caption(f"Each dot is one of the {len(data.y_test):,} test images, placed by the {space['units']} activations "
               f"of the network's last hidden layer {when}, squeezed to two numbers by PCA: the two directions along "
               f"which the final activations vary most ({first:.0%} and {second:.0%} of their variance). The axes are "
               "not pixels and not classes — the colours (true classes) are added afterwards. Images with similar "
               "activations land close together, though dots that overlap here can still differ along directions "
               "the map leaves out. Ringed dots are mistakes. Click a dot or draw a lasso to see those images.")
    if card.epochs_run == 1:
        st.caption("This model trained for a single epoch, so its clusters may still be loose.")
    selected = figures.selected_indices(event.selection.points if event else [])
    if selected:
        _selected_images(selected, data, predicted)
    return selected


def _selected_images(selected, data, predicted) -> None:
    """The selected test images with true and predicted labels; a link to Predict for one of them."""
    shown = selected[:MAX_SELECTED]
    names = data.class_names
    st.markdown(f"**{len(selected)} image(s) selected**" + (f", the first {MAX_SELECTED} shown" if len(selected) >
                                                                 MAX_SELECTED else ""))
    st.image([plots.enlarge(data.x_test[index], 3) for index in shown], width=84,
             caption=[f"#{index}: {names[data.y_test[index]]} → {names[predicted[index]]}" for index in shown])
    ui.page_link("pages/predict.py", f"Open test image {shown[0]} on the Predict page", {"image": shown[0]})


## The learning-rate finder's result


def learning_rate_result(curve, key: str, on_use=None) -> float | None:
    """The finder's curve with its suggestions and a button to use the suggested rate (on_use(rate) is called).
    Returns the suggested rate, or None when the curve is too short."""
    try:
        suggestion = lr_finder.suggest(curve.learning_rates, curve.smoothed_losses)
    except ValueError as error:
        st.plotly_chart(figures.learning_rate_figure(curve), key=f"{key}_curve")
        st.warning(str(error))
        return None
    st.plotly_chart(figures.learning_rate_figure(curve, suggestion), key=f"{key}_curve")
    endings = {"finished": "ran all its steps", "exploded": "stopped when the smoothed loss passed 4× its lowest value",
               "not finite": "stopped when the loss stopped being a number", "stopped": "was stopped"}
    st.caption(f"The learning rate rose from {curve.learning_rates[0]:.0e} to {curve.learning_rates[-1]:.2g} over "
               f"{len(curve.learning_rates)} batches; the run {endings.get(curve.ended, curve.ended)}. Too low a rate "
               "barely moves the loss, too high makes it explode; the useful rates are on the steep downhill part. "
               f"Suggested (valley, fastai's default): **{suggestion.valley:.2g}**; steepest descent: "
               f"{suggestion.steepest:.2g}. The weights were reset afterwards: the finder only looks.")
    if on_use is not None:
        st.button(f"Use learning rate {suggestion.valley:.2g}", key=f"{key}_use", on_click=on_use,
                  args=(float(f"{suggestion.valley:.2g}"),))
    return suggestion.valley
