"""Figures for the pages: matplotlib (the TensorFlow tutorial's) and interactive Plotly. Returned, never shown.

Matplotlib figures are built with matplotlib.figure.Figure, not pyplot, so a server can draw them
from several threads at once.
"""

import base64
import html
import io

import numpy as np
import plotly.graph_objects as go
from matplotlib.figure import Figure
from PIL import Image

from mnistlib.names import as_chart_text

# The tutorial's blue and red (6.1:1 and 4.9:1 on white); its grey darkened from #9e9e9e (2.7:1) to 4.5:1, so that
# every bar stands out from the page by more than WCAG 1.4.11's 3:1.
RIGHT, WRONG, OTHER = "#1f5fbf", "#d62728", "#767676"
RIGHT_MARK, WRONG_MARK = "✓", "✗"  # right and wrong said by a mark too, never by the colour alone

# Okabe & Ito's colour-blind-safe palette, the app's one list of categorical colours (the map's classes, the board's
# architectures, Compare's two models). Orange, sky blue and yellow are under 3:1 against the white page (2.3, 2.3
# and 1.3:1): marks filled with them get a MARK_EDGE outline (12.6:1), which gives WCAG 1.4.11's 3:1 whatever the fill.
OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000"]
MARK_EDGE = "#333333"
# Compare's model A and model B, on every chart of the page: vermillion (3.9:1) and blue (5.2:1).
MODEL_COLOURS = (OKABE_ITO[5], OKABE_ITO[4])


## The TensorFlow tutorial's figures (matplotlib)


def _plot_image(axes, image, probabilities, true_label, class_names):
    predicted = int(np.argmax(probabilities))
    axes.imshow(image, cmap="binary")
    axes.set_xticks([])
    axes.set_yticks([])
    colour = RIGHT if predicted == true_label else WRONG
    mark = RIGHT_MARK if predicted == true_label else WRONG_MARK
    axes.set_xlabel(f"{class_names[predicted]} {100 * np.max(probabilities):2.0f}% ({class_names[true_label]}) {mark}",
                    color=colour)


def _plot_value_array(axes, probabilities, true_label, class_names, ticks=True):
    classes = len(probabilities)
    bars = axes.bar(range(classes), probabilities, color=OTHER)
    axes.set_ylim([0, 1])
    bars[int(np.argmax(probabilities))].set_color(WRONG)
    bars[true_label].set_color(RIGHT)
    axes.set_xticks(range(classes), class_names if ticks else [""] * classes, rotation=90 if ticks and
                    max(len(name) for name in class_names) > 2 else 0, fontsize=8)
    axes.set_yticks([0, 0.5, 1] if ticks else [])
    return bars


def prediction_figure(image, probabilities, true_label: int, class_names) -> Figure:
    """The image titled "predicted (confidence %) (true) ✓", blue and ✓ if right, red and ✗ if wrong, beside one bar
    per class.

    image (28, 28) uint8; probabilities (classes,) float summing to 1.
    """
    figure = Figure(figsize=(6.4 + 0.2 * max(0, len(probabilities) - 10), 3.2), layout="constrained")
    left, right = figure.subplots(1, 2)
    _plot_image(left, image, probabilities, int(true_label), class_names)
    _plot_value_array(right, probabilities, int(true_label), class_names)
    right.set_ylabel("probability")
    return figure


def prediction_grid(images, probabilities, labels, class_names, rows: int = 5, columns: int = 3,
                    titles=None) -> Figure:
    """The tutorial's grid: rows × columns (image, bars) pairs for the first rows*columns images, each image
    optionally titled (e.g. with its test-set index)."""
    figure = Figure(figsize=(2 * 2 * columns, 2 * rows), layout="constrained")
    axes = figure.subplots(rows, 2 * columns, squeeze=False)
    for slot in range(rows * columns):
        row, column = divmod(slot, columns)
        image_axes, bar_axes = axes[row][2 * column], axes[row][2 * column + 1]
        if slot >= len(images):
            image_axes.axis("off")
            bar_axes.axis("off")
            continue
        _plot_image(image_axes, images[slot], probabilities[slot], int(labels[slot]), class_names)
        _plot_value_array(bar_axes, probabilities[slot], int(labels[slot]), class_names, ticks=False)
        if titles is not None:
            image_axes.set_title(titles[slot], fontsize=10)
    return figure


def sample_grid(images, labels, class_names, columns: int = 5) -> Figure:
    """Training images in a grid, each with its class name (the tutorial's 5×5)."""
    rows = int(np.ceil(len(images) / columns))
    figure = Figure(figsize=(2 * columns, 2.2 * rows), layout="constrained")
    for index, axes in enumerate(figure.subplots(rows, columns, squeeze=False).flat):
        axes.set_xticks([])
        axes.set_yticks([])
        if index < len(images):
            axes.imshow(images[index], cmap="binary")
            axes.set_xlabel(class_names[int(labels[index])])
        else:
            axes.axis("off")
    return figure


def templates_grid(templates, columns: int = 8, titles=None) -> Figure:
    """Weight images (units, 28, 28) in a grid; red positive, blue negative, white zero."""
    rows = int(np.ceil(len(templates) / columns))
    figure = Figure(figsize=(1.4 * columns, 1.5 * rows), layout="constrained")
    for index, axes in enumerate(figure.subplots(rows, columns, squeeze=False).flat):
        axes.axis("off")
        if index < len(templates):
            limit = float(np.abs(templates[index]).max()) or 1.0
            axes.imshow(templates[index], cmap="bwr", vmin=-limit, vmax=limit)
            axes.set_title(titles[index] if titles else f"unit {index}", fontsize=8)
    return figure


def class_means_grid(means, class_names, columns: int = 10) -> Figure:
    """The average image of each class (classes, 28, 28) in rows of up to columns, white ink on black (0–255)."""
    columns = min(columns, len(means))
    rows = int(np.ceil(len(means) / columns))
    figure = Figure(figsize=(1.5 * columns, 1.9 * rows), layout="constrained")
    for index, axes in enumerate(figure.subplots(rows, columns, squeeze=False).flat):
        axes.axis("off")
        if index < len(means):
            axes.imshow(means[index], cmap="gray", vmin=0, vmax=255)
            axes.set_title(class_names[index], fontsize=9)
    return figure


def figure_png(figure: Figure, dpi: int = 120) -> bytes:
    """A matplotlib figure as PNG bytes (for downloads and st.image)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


## Interactive Plotly figures


def probability_bar(probabilities, class_names, true_label=None, title=None, height: int = 300) -> go.Figure:
    """Bars of the probabilities (one per class); hover shows class and probability; predicted red, true blue."""
    probabilities = np.asarray(probabilities, dtype=float)
    predicted = int(np.argmax(probabilities))
    colours = [OTHER] * len(probabilities)
    colours[predicted] = WRONG
    if true_label is not None:
        colours[int(true_label)] = RIGHT
    # Without a true label (Draw) there is no blue bar, so the legend names only what is shown.
    legend = "red: predicted" + (" · blue: true label (blue when they agree)" if true_label is not None else "")
    shown = [as_chart_text(name) for name in class_names]
    return go.Figure(
        data=[go.Bar(x=shown, y=probabilities, marker_color=colours, customdata=np.arange(len(probabilities)),
                     hovertemplate="%{x}: %{y:.3f}<extra></extra>", textposition="outside",
                     text=[f"{p:.0%}" if p >= 0.01 else "" for p in probabilities])],
        layout=dict(title=title, height=height, margin=dict(l=10, r=10, t=40 if title else 10, b=10),
                    yaxis=dict(range=[0, 1.12], title="probability", tickformat=".0%"),
                    # The bars' roles also in words under their names, not by their colour alone.
                    xaxis=dict(type="category", tickvals=shown,
                               ticktext=bar_roles(shown, predicted, true_label)), showlegend=False,
                    annotations=[dict(text=legend, x=1, y=1.1, xref="paper", yref="paper", showarrow=False,
                                      xanchor="right", font=dict(size=11, color="#555"))]),
    )


def bar_roles(names, predicted: int, true_label=None) -> list[str]:
    """Tick labels naming each bar's role below its class: "predicted ✓" (right), "predicted ✗" and "true" (wrong),
    "predicted" alone when there is no true label (Draw)."""
    roles = [""] * len(names)
    if true_label is None:
        roles[predicted] = "predicted"
    elif int(true_label) == predicted:
        roles[predicted] = f"predicted {RIGHT_MARK}"
    else:
        roles[predicted], roles[int(true_label)] = f"predicted {WRONG_MARK}", "true"
    return [f"{name}<br>{role}" if role else name for name, role in zip(names, roles, strict=True)]


def per_class_error_bars(errors, class_names, models=("A", "B"), height: int = 320) -> go.Figure:
    """Grouped bars of each model's share of wrong answers per class (errors: one (classes,) array of 0–1 per model),
    in MODEL_COLOURS; the second model's bars also hatched and every bar lettered, so colour is never the only cue."""
    names = [as_chart_text(name) for name in class_names]
    bars = []
    for index, (letter, shares) in enumerate(zip(models, errors, strict=True)):
        # An outline (MARK_EDGE) keeps even a hatched or low bar's edge at 3:1 against the page.
        marker = dict(color=MODEL_COLOURS[index % 2], line=dict(color=MARK_EDGE, width=1),
                      pattern=dict(shape="" if index % 2 == 0 else "/", fillmode="overlay", fgcolor="#ffffff"))
        bars.append(go.Bar(x=names, y=np.asarray(shares, dtype=float), name=f"model {letter}", marker=marker,
                           text=[letter] * len(names), textposition="outside", cliponaxis=False,
                           hovertemplate=f"model {letter}, true class %{{x}}: %{{y:.1%}} wrong<extra></extra>"))
    return go.Figure(data=bars, layout=dict(
        barmode="group", height=height, margin=dict(l=10, r=10, t=40, b=10),
        legend=dict(orientation="h", y=1.02, yanchor="bottom", x=1, xanchor="right"),
        xaxis=dict(type="category", title="true class"), yaxis=dict(title="share wrong", tickformat=".0%",
                                                                    rangemode="tozero")))


def confusion_heatmap(matrix, class_names, normalized: bool = False) -> go.Figure:
    """Confusion matrix (classes, classes) as a clickable heatmap: rows true, columns predicted; diagonal outlined."""
    counts = np.asarray(matrix)
    fractions = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    values = fractions if normalized else counts
    # The diagonal (right answers) would dominate the colour scale; colour mistakes only, outline the diagonal.
    off_diagonal = values.astype(float).copy()
    np.fill_diagonal(off_diagonal, np.nan)
    text = [[f"{counts[i, j]}<br>{fractions[i, j]:.0%}" if normalized else f"{counts[i, j]}"
             for j in range(len(class_names))] for i in range(len(class_names))]
    names = [as_chart_text(name) for name in class_names]
    rows, columns = np.indices(counts.shape)
    # Ten classes fit the page's 520 px; more classes get a taller figure and smaller click targets.
    height = 520 + 20 * max(0, len(names) - 10)
    marker_size = min(30, int(0.85 * (height - 100) / len(names)))
    # Built in one constructor call: Plotly validates every add_shape/add_annotation call separately (~2 ms each).
    return go.Figure(
        data=[
            go.Heatmap(z=off_diagonal, x=names, y=names, text=text, texttemplate="%{text}", colorscale="Reds",
                       xgap=1, ygap=1, colorbar=dict(title="mistakes"), hoverinfo="skip"),
            # Heatmap cells cannot be selected by a click in Streamlit; an invisible marker on each cell can.
            go.Scatter(x=[names[c] for c in columns.ravel()], y=[names[r] for r in rows.ravel()], mode="markers",
                       marker=dict(symbol="square", size=marker_size, color="rgba(0,0,0,0)"), showlegend=False,
                       customdata=np.stack([counts.ravel(), fractions.ravel()], axis=1),
                       hovertemplate="true %{y} → predicted %{x}: %{customdata[0]} (%{customdata[1]:.1%})"
                                     "<extra></extra>"),
        ],
        layout=dict(
            height=height, margin=dict(l=10, r=10, t=30, b=10), clickmode="event+select",
            xaxis=dict(title="predicted", type="category", side="top", tickangle=-30),
            yaxis=dict(title="true", type="category", autorange="reversed"),
            # Right answers: green squares with their counts (the colour scale is left to the mistakes).
            shapes=[dict(type="rect", x0=index - 0.5, x1=index + 0.5, y0=index - 0.5, y1=index + 0.5,
                         fillcolor="rgba(46,160,67,0.35)", line=dict(color="#2ea043", width=2), layer="below")
                    for index in range(len(names))],
            annotations=[dict(x=name, y=name, text=f"<b>{text[index][index]}</b>", showarrow=False,
                              font=dict(color="#0b4d1c")) for index, name in enumerate(names)],
        ),
    )


def training_curves(history, progress=None, height: int = 320) -> go.Figure:
    """Loss and accuracy per epoch (train and validation), plus the running train values within epochs."""
    traces, epochs = [], [record["epoch"] for record in history]
    for column, metric in enumerate(("loss", "accuracy"), start=1):
        axes = dict(xaxis=f"x{column}", yaxis=f"y{column}", showlegend=column == 1)
        if progress:
            traces.append(go.Scatter(x=[point["step"] for point in progress], y=[point[metric] for point in progress],
                                     mode="lines", name="train (running)", line=dict(color="#9ab3d5", width=1),
                                     legendgroup="running", **axes))
        traces.append(go.Scatter(x=epochs, y=[record[metric] for record in history], mode="lines+markers",
                                 name="train", line=dict(color=RIGHT), legendgroup="train", **axes))
        validation = [record.get(f"val_{metric}") for record in history]
        if any(value is not None for value in validation):
            traces.append(go.Scatter(x=epochs, y=validation, mode="lines+markers", name="validation",
                                     line=dict(color="#ff7f0e"), legendgroup="validation", **axes))
    # Two side-by-side axes laid out by hand, in one constructor call (make_subplots + add_trace cost ~14 ms
    # per figure, and the live view redraws it twice a second).
    x_axis = dict(title="epoch", rangemode="tozero")
    return go.Figure(data=traces, layout=dict(
        height=height, margin=dict(l=10, r=10, t=40, b=10), uirevision="training", legend=dict(orientation="h", y=-0.25),
        xaxis=dict(domain=[0, 0.45], anchor="y", **x_axis), yaxis=dict(anchor="x"),
        xaxis2=dict(domain=[0.55, 1], anchor="y2", **x_axis), yaxis2=dict(anchor="x2"),
        annotations=[dict(text=title, x=(0.225, 0.775)[index], y=1, xref="paper", yref="paper", yanchor="bottom",
                          showarrow=False, font=dict(size=16)) for index, title in enumerate(("loss", "accuracy"))],
    ))


def image_figure(image, title=None, show_values: bool = False, scaled: bool = False, height: int = 420) -> go.Figure:
    """One 28×28 image as a heatmap with a colour bar (0–255, or 0–1 when scaled), optionally with values."""
    values = np.asarray(image, dtype=float) / (255.0 if scaled else 1.0)
    heatmap = go.Heatmap(z=values, colorscale="gray_r", zmin=0, zmax=1 if scaled else 255,
                         hovertemplate="row %{y}, column %{x}: %{z}<extra></extra>")
    if show_values:
        heatmap.update(text=np.round(values, 1 if scaled else 0), texttemplate="%{text}", textfont=dict(size=7))
    figure = go.Figure(heatmap)
    figure.update_layout(title=title, height=height, margin=dict(l=10, r=10, t=40 if title else 10, b=10),
                         yaxis=dict(autorange="reversed", scaleanchor="x", constrain="domain"),
                         xaxis=dict(constrain="domain"))
    return figure


def class_counts_bar(counts, class_names, title=None) -> go.Figure:
    """How many images each class has."""
    figure = go.Figure(go.Bar(x=[as_chart_text(name) for name in class_names], y=np.asarray(counts), marker_color=RIGHT,
                              hovertemplate="%{x}: %{y}<extra></extra>"))
    figure.update_layout(title=title, height=300, margin=dict(l=10, r=10, t=40 if title else 10, b=10),
                         xaxis=dict(type="category"), yaxis=dict(title="images"))
    return figure


def image_html(image, caption: str = "", width: int = 224) -> str:
    """An <img> of a (H, W) uint8 image as an inline PNG, drawn width px wide with square pixels, and a caption."""
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(image, dtype=np.uint8)).save(buffer, format="PNG")
    source = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    return (f'<figure style="margin:0"><img src="{source}" width="{width}" height="{width}" '
            f'style="image-rendering:pixelated" alt="{html.escape(caption)}">'
            f'<figcaption style="font-size:0.8em;opacity:0.7">{html.escape(caption)}</figcaption></figure>')


def enlarge(image, scale: int = 8) -> np.ndarray:
    """A 28×28 uint8 image made scale times larger with square pixels (no blur), for display."""
    return np.repeat(np.repeat(np.asarray(image), scale, axis=0), scale, axis=1)
