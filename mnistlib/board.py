"""The class board's table and chart, built from the store's index entries (never from the card files).

    entries = store.entries(dataset, viewer=actor.key)
    st.dataframe(board.table(entries, board.dataset_titles(entries), test_revealed=False))
    board.accuracy_figure(entries)   # parameters (log) against validation accuracy, a colour and shape per architecture
"""

import html
import itertools
import json

import numpy as np
import plotly.graph_objects as go

from mnistlib import datasets, lab_code, plots

ARCHITECTURE_TITLES = {"dense": "Dense", "cnn": "CNN"}
# A colour (Okabe–Ito, plots.OKABE_ITO) and a shape per architecture, named in the legend: blue circles for Dense,
# vermillion diamonds for CNNs (5.2:1 and 3.9:1 on white); any other architecture the next colours and shapes.
ARCHITECTURE_MARKS = {"dense": (plots.OKABE_ITO[4], "circle"), "cnn": (plots.OKABE_ITO[5], "diamond")}
OTHER_MARKS = [(plots.OKABE_ITO[2], "square"), (plots.OKABE_ITO[6], "triangle-up"), (plots.OKABE_ITO[7], "x"),
               (plots.OKABE_ITO[0], "star"), (plots.OKABE_ITO[1], "pentagon")]
TEST_COLUMN = "Test accuracy"
LAB_COLUMN = "Overfitting lab"
WEBGL_FROM = 2000  # points; above this the chart draws with WebGL (an SVG point each gets slow in the browser)


def trained_by(entry) -> str:
    """Who trained a model, with "+N" when N more students asked for exactly the same training and share it."""
    who = entry.trained_by or "unknown"
    return f"{who} +{entry.owners - 1}" if entry.owners > 1 else who


def dataset_titles(entries) -> dict[str, str]:
    """{dataset name: its title} for the datasets of these entries (the name itself for one no longer here)."""
    titles = {}
    for name in {entry.dataset for entry in entries}:
        try:
            titles[name] = datasets.info(name).title
        except (ValueError, RuntimeError):  # a user dataset removed (or damaged) since its models were trained
            titles[name] = name
    return titles


def table(entries, titles: dict[str, str], test_revealed: bool, lab: dict | None = None) -> dict[str, list]:
    """The board's columns, one row per entry in the entries' order; test accuracy only when revealed; lab:
    store.lab_settings(), the overfitting lab's settings by model id ("—" for a model without)."""
    lab = lab or {}
    columns = {
        "Trained by": [trained_by(entry) for entry in entries],
        "Model": [entry.name for entry in entries],
        "Yours": [entry.mine for entry in entries],
        "Validation accuracy": [entry.val_accuracy for entry in entries],
    }
    if test_revealed:
        columns[TEST_COLUMN] = [entry.test_accuracy for entry in entries]
    columns.update({
        "Epochs": [entry.epochs_run for entry in entries],
        "Stopped early": [entry.epochs_run < entry.epochs_requested for entry in entries],
        "Architecture": [ARCHITECTURE_TITLES.get(entry.architecture, entry.architecture) for entry in entries],
        "Settings": [entry.settings for entry in entries],
        LAB_COLUMN: [lab_code.describe(lab.get(entry.id, {})) for entry in entries],
        "Parameters": [entry.parameters for entry in entries],
        "Training time (s)": [entry.training_seconds for entry in entries],
        "Dataset": [titles.get(entry.dataset, entry.dataset) for entry in entries],
        "Subset": [entry.subset for entry in entries],
        # ISO 8601 in UTC: "2026-11-24T20:15:00.000+00:00" → "2026-11-24 20:15" (sorts as text in time order).
        "Trained (UTC)": [entry.created[:16].replace("T", " ") for entry in entries],
    })
    return columns


def lab_sentence(lab: dict) -> str:
    """A model's lab settings (store.lab_settings()) with what early stopping did, e.g. "500 images, early stop 3;
    stopped after epoch 9, kept the weights of epoch 6."."""
    text = lab_code.describe(lab)
    if "best_epoch" in lab:
        text += f"; stopped after epoch {lab['stopped_epoch']}, kept the weights of epoch {lab['best_epoch']}"
    return text + "."


def accuracy_figure(entries) -> go.Figure:
    """Parameters (log scale) against validation accuracy, one colour and marker shape per architecture (with a
    dark outline, for the light colours' contrast); hovering a point shows who trained it and its settings. Models
    trained without a validation split are left out."""
    plotted = [entry for entry in entries if entry.val_accuracy is not None]
    # Columns as numpy arrays: Plotly checks an array at once, where it would check a list element by element.
    architectures = np.array([entry.architecture for entry in plotted], dtype=object)
    parameters = np.array([entry.parameters for entry in plotted], dtype=np.int64)
    accuracies = np.array([entry.val_accuracy for entry in plotted], dtype=np.float64)
    # Names are typed by students: escaped, so Plotly shows "<b>" as text and never as markup.
    hover = np.array([(html.escape(entry.name), html.escape(trained_by(entry)), html.escape(entry.settings),
                       entry.epochs_run) for entry in plotted], dtype=object).reshape(len(plotted), 4)
    figure = go.Figure()
    trace = go.Scattergl if len(plotted) > WEBGL_FROM else go.Scatter
    others = itertools.cycle(OTHER_MARKS)  # for architectures the board does not know (repeating after 5)
    for architecture in sorted(set(architectures)):
        chosen = architectures == architecture
        colour, symbol = ARCHITECTURE_MARKS.get(architecture) or next(others)
        figure.add_trace(trace(
            x=parameters[chosen], y=accuracies[chosen], customdata=hover[chosen], mode="markers",
            name=ARCHITECTURE_TITLES.get(architecture, html.escape(architecture)),
            # Opaque (a see-through fill would fall under 3:1), outlined: overlapping points stay apart.
            marker={"color": colour, "symbol": symbol, "size": 9, "line": {"color": plots.MARK_EDGE, "width": 1}},
            hovertemplate="<b>%{customdata[0]}</b><br>by %{customdata[1]}<br>%{customdata[2]}<br>"
                          "%{customdata[3]} epochs · %{x:,} parameters<br>validation accuracy %{y:.2%}<extra></extra>",
        ))
    # From a little below the lowest accuracy up to 100%: the differences between models stay visible.
    lowest = float(accuracies.min()) if len(accuracies) else 0.0
    figure.update_layout(
        xaxis={"type": "log", "title": "Parameters (learned numbers, log scale)"},
        yaxis={"title": "Validation accuracy", "tickformat": ".0%", "range": [max(0.0, lowest - 0.05), 1.005]},
        showlegend=True, legend={"title": "Architecture"}, margin={"l": 10, "r": 10, "t": 30, "b": 10}, height=420,
    )
    return figure


def card_json(card, test_revealed: bool) -> str:
    """A stored model's card (store.ModelCard) as JSON for download; without the test results while they are
    hidden from the class."""
    values = card.to_dict()
    if not test_revealed:
        values = {key: value for key, value in values.items() if key not in ("test_accuracy", "test_loss")}
    return json.dumps(values, indent=1)
