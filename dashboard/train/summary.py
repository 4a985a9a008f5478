"""The Train page's model summary: layers and parameters, what compile() and fit() do, the same in plain Keras; and
at the end of a run, whether the model overfits beyond noise (mnistlib.overfitting)."""

import streamlit as st

from dashboard import loaders
from mnistlib import concepts, datasets, keras_code, models, overfitting
from mnistlib.names import as_text


def model_summary(spec: models.ModelSpec, epochs: int, data) -> None:
    """The layers, output shapes and parameter counts, before anything is trained; beside it, what compile() and
    fit() do with them, and the same model and training as plain Keras code."""
    name, num_classes = data.name, len(data.class_names)
    parameters = models.count_parameters(spec, num_classes)
    summary_column, fit_column = st.columns(2, gap="large")
    with summary_column:
        rows = [{"layer": row.name, "kind": row.kind, "output shape": str((None, *row.output_shape)),
                 "parameters": row.parameters} for row in models.summary(spec, num_classes)]
        st.dataframe(rows, hide_index=True, width="stretch")
        st.markdown(f"**Total parameters: {parameters:,}** — every one is learned from the training images. "
                    "Input: 28×28 pixels divided by 255 (0 to 1).")
        with st.expander("What the layers do"):
            keys = ["flatten", "dense", "relu", "softmax", "outputs", "loss"]
            keys += (["cnn"] if spec.architecture == "cnn" else []) + (["dropout"] if spec.dropout else [])
            for key in keys + ["scaling"]:
                st.markdown(concepts.note(key))
    with fit_column:
        st.markdown("**How `compile()` and `fit()` make these parameters**")
        st.markdown(concepts.compile_fit_note(spec, num_classes, parameters, len(data.y_train), epochs))
    where = (f"; `keras.datasets.{name}.load_data()` gives the full {datasets.FULL_SHAPES['y_train'][0]:,}"
             if data.subset == "small" and name in datasets.REGISTRY else "")
    with st.expander("The same model and training in plain Keras"):
        st.markdown(f"With `x_train`, `y_train` the training set as loaded — {len(data.y_train):,} images here{where} "
                    "— its pixels 0–255 are divided by 255 as in training. The code builds the same network with the same "
                    "settings; this app trains it with its own faster loop, which shuffles in another order and "
                    "leaves out the last partial batch, so the numbers come out close but not identical.")
        st.code(keras_code.model_code(spec, num_classes) + f"model.count_params()   # {parameters}\n"
                + keras_code.compile_code(spec) + keras_code.fit_code(spec, epochs), language="python")
        st.markdown(concepts.from_logits_note(num_classes))


def overfitting_summary(state) -> None:
    """At the end of a run: one sentence on the stored model's final training-vs-validation accuracy gap against
    the validation figure's noise, naming the lab settings that changed it (highlighted when beyond noise); then
    the verdict on the validation loss (overfitting.overfitting_verdict), said as plain facts when it would call
    "no sign of overfitting" a run whose gap is beyond noise."""
    card = loaders.open_card(state.model_id)
    if card is None:  # it said why
        return
    data = loaders.require_dataset(card.dataset, card.subset)
    verdict = overfitting.card_verdict(card.to_dict(), len(data.y_train))
    sentence = as_text(overfitting.gap_sentence(verdict))
    beyond_noise = verdict is not None and verdict.beyond_noise
    if beyond_noise:
        st.info(sentence)
    else:
        st.caption(sentence)
    loss_verdict, loss_sentence = overfitting.overfitting_verdict(state.history)
    if loss_verdict == "overfitting":
        st.info(loss_sentence + " " + concepts.note("overfitting"))
    elif beyond_noise and loss_verdict == "not yet":
        st.caption(overfitting.loss_trend_sentence(state.history) or loss_sentence)
    else:
        st.caption(loss_sentence)
