"""Compare's training curves: two runs on one chart (accuracy and loss, training and validation of each), and
under it each run's final gap between training and validation accuracy, judged against noise (mnistlib.overfitting).

Colours are Okabe–Ito's vermillion and blue (plots.MODEL_COLOURS, as on the page's other charts: told apart with
the common colour blindnesses, each 3:1 or more against the page); training is a solid line,
validation a dashed one, and A's markers are circles, B's squares, so nothing is said by colour alone.
"""

import plotly.graph_objects as go
import streamlit as st

from mnistlib import overfitting, plots
from mnistlib.names import as_chart_text, as_text

RUN_COLOURS = plots.MODEL_COLOURS  # run A, run B
RUN_SYMBOLS = ("circle", "square")
KIND_DASHES = {"training": "solid", "validation": "dash"}
METRICS = (("accuracy", "accuracy"), ("loss", "loss"))  # (record key, panel title), left to right


def two_runs_figure(runs, height: int = 380) -> go.Figure:
    """Accuracy (left) and loss (right) per epoch of runs, a list of (letter, name, history) with history the
    card's records {epoch, loss, accuracy, val_loss, val_accuracy}; the legend names each run's model."""
    traces = []
    for run, (letter, name, history) in enumerate(runs):
        epochs = [record["epoch"] for record in history]
        for column, (metric, _) in enumerate(METRICS, start=1):
            for kind, key in (("training", metric), ("validation", f"val_{metric}")):
                values = [record.get(key) for record in history]
                if all(value is None for value in values):
                    continue  # no validation split
                value_format = ".2%" if metric == "accuracy" else ".4f"
                traces.append(go.Scatter(
                    x=epochs, y=values, mode="lines+markers", xaxis=f"x{column}", yaxis=f"y{column}",
                    name=f"{letter}: {as_chart_text(name)} · {kind}", legendgroup=f"{letter}-{kind}",
                    showlegend=column == 1,
                    line=dict(color=RUN_COLOURS[run % 2], dash=KIND_DASHES[kind], width=2.5),
                    marker=dict(symbol=RUN_SYMBOLS[run % 2], size=7, color=RUN_COLOURS[run % 2]),
                    hovertemplate=f"{letter} {kind} {metric}, epoch %{{x}}: %{{y:{value_format}}}<extra></extra>"))
    x_axis = dict(title="epoch", rangemode="tozero")
    return go.Figure(data=traces, layout=dict(
        height=height, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.3),
        xaxis=dict(domain=[0, 0.45], anchor="y", **x_axis), yaxis=dict(anchor="x", tickformat=".0%"),
        xaxis2=dict(domain=[0.55, 1], anchor="y2", **x_axis), yaxis2=dict(anchor="x2"),
        annotations=[dict(text=title, x=(0.225, 0.775)[index], y=1, xref="paper", yref="paper", yanchor="bottom",
                          showarrow=False, font=dict(size=16)) for index, (_, title) in enumerate(METRICS)],
    ))


def compare_curves(runs) -> None:
    """The chart of both runs and each one's gap sentence; runs: (letter, card, training_set_size) with
    training_set_size the number of training images before the validation split."""
    st.subheader("Both training curves")
    figure = two_runs_figure([(letter, card.name, card.history) for letter, card, _ in runs])
    st.plotly_chart(figure, key="compare_curves")
    st.caption("Solid lines: training; dashed: validation. A is vermillion with circles, B blue with squares. "
               "The gap is training minus validation accuracy after the last epoch.")
    for letter, card, training_set_size in runs:
        verdict = overfitting.card_verdict(card.to_dict(), training_set_size)
        st.markdown(f"**{letter}** ({as_text(card.name)}): {as_text(overfitting.gap_sentence(verdict))}")
