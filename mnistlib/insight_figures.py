"""Figures for mnistlib.insight: hidden units, saliency overlays, feature maps, the hidden-space map and the
learning-rate finder's curve. Plotly for the interactive ones, matplotlib for grids; returned, never shown."""

import numpy as np
import plotly.graph_objects as go
from matplotlib import colormaps
from matplotlib.figure import Figure

from mnistlib.names import as_chart_text
from mnistlib.plots import MARK_EDGE, OKABE_ITO

# Red where more ink raises the probability, blue where it lowers it, see-through near zero (the image shows).
DIVERGING = [[0.0, "rgba(33,102,172,0.95)"], [0.5, "rgba(247,247,247,0)"], [1.0, "rgba(178,24,43,0.95)"]]
HEAT = [[0.0, "rgba(255,237,160,0)"], [0.4, "rgba(254,178,76,0.6)"], [1.0, "rgba(189,0,38,0.9)"]]
IMAGE_SCALE = [[0.0, "#ffffff"], [1.0, "#444444"]]  # ink dark grey on white, so colours on top stay readable
MISTAKE = "#111111"
CHOSEN = "#0072B2"  # Okabe–Ito blue, 5.2:1 on white

SALIENCY_HOW_TO_READ = (
    "How to read it: **red** pixels are where a little more ink would raise the probability of the answer, "
    "**blue** where it would lower it, and clear ones barely matter; gradient × input keeps only the pixels "
    "that have ink, so it shows which of the drawn strokes counted for (red) and against (blue) the answer."
)
GRAD_CAM_HOW_TO_READ = (
    "Grad-CAM colours where the last convolution found features that, weighted by how much each raises the "
    "answer's score on average, push that score up: the darker the red, the more. It is computed on the "
    "convolution's coarse grid of positions, so it is blurry by design."
)


# One marker shape per class, so that classes sharing a colour (the 9th and 10th) or a colour-blind reader's
# look-alikes still differ; all drawn by WebGL (Scattergl).
CLASS_SYMBOLS = ["circle", "square", "diamond", "triangle-up", "cross", "x", "triangle-down", "star", "pentagon",
                 "hexagon"]


def class_colours(count: int) -> list[str]:
    """One colour per class from the Okabe–Ito palette (plots.OKABE_ITO), repeating after 8 (the shapes tell those
    apart); every dot gets a MARK_EDGE outline for the light colours' contrast."""
    return [OKABE_ITO[index % len(OKABE_ITO)] for index in range(count)]


def class_symbols(count: int) -> list[str]:
    """One marker shape per class, repeating after 10 (with the colours, 40 classes stay distinct)."""
    return [CLASS_SYMBOLS[index % len(CLASS_SYMBOLS)] for index in range(count)]


def nearest_points(points, index: int, count: int) -> np.ndarray:
    """The test indices of the count points nearest to points[index] on the map (points (N, 2)), nearest first,
    the image itself excluded; ties keep test-set order."""
    points = np.asarray(points, dtype=np.float64)
    if not 0 <= index < len(points):
        raise ValueError(f"There is no test image {index}: the map has images 0 to {len(points) - 1}.")
    distances = np.linalg.norm(points - points[index], axis=1)
    distances[index] = np.inf
    return np.argsort(distances, kind="stable")[: max(0, min(count, len(points) - 1))]


## Hidden units


def activation_grid(activations, highlight=(), columns: int = 16, height: int = 260) -> go.Figure:
    """The hidden layer's activations (units,) as a grid of squares, unit 0 top left; hover names each unit.
    Units in highlight get an outline."""
    activations = np.asarray(activations, dtype=float)
    rows = int(np.ceil(len(activations) / columns))
    grid = np.full(rows * columns, np.nan)
    grid[: len(activations)] = activations
    numbers = np.arange(rows * columns).reshape(rows, columns)
    outlined = [dict(type="rect", x0=unit % columns - 0.5, x1=unit % columns + 0.5, y0=unit // columns - 0.5,
                     y1=unit // columns + 0.5, line=dict(color="#d62728", width=2)) for unit in highlight]
    return go.Figure(
        go.Heatmap(z=grid.reshape(rows, columns), customdata=numbers, colorscale="Greys", zmin=0, xgap=1, ygap=1,
                   colorbar=dict(title="activation"), hovertemplate="unit %{customdata}: %{z:.2f}<extra></extra>"),
        layout=dict(height=height, margin=dict(l=10, r=10, t=10, b=10), shapes=outlined,
                    xaxis=dict(visible=False, constrain="domain"),
                    yaxis=dict(visible=False, autorange="reversed", scaleanchor="x")),
    )


def template_pictures(templates, scale: int = 4) -> list[np.ndarray]:
    """Templates (k, 28, 28) as framed RGB pictures (28·scale+2, 28·scale+2, 3) uint8: red positive, blue negative, white
    zero, each on its own symmetric scale (as plots.templates_grid); cheap enough to redraw on every stroke."""
    pictures = []
    for template in np.asarray(templates, dtype=float):
        limit = float(np.abs(template).max()) or 1.0
        rgb = (colormaps["bwr"]((template / limit + 1) / 2)[..., :3] * 255).astype(np.uint8)
        large = np.repeat(np.repeat(rgb, scale, axis=0), scale, axis=1)
        # A light grey frame, so pictures shown side by side stay apart.
        pictures.append(np.pad(large, ((1, 1), (1, 1), (0, 0)), constant_values=200))
    return pictures


def unit_titles(units, pushes) -> list[str]:
    """Titles like "unit 37: +2.31" for units and their contributions."""
    return [f"unit {int(unit)}: {float(push):+.2f}" for unit, push in zip(units, pushes, strict=True)]


## Pixels: saliency, gradient × input, Grad-CAM


def overlays_figure(image, panels, height: int = 300) -> go.Figure:
    """image (28, 28) uint8 side by side with each panel drawn over it; panels: [(title, values (28, 28) or None,
    "diverging" (zero see-through, symmetric scale) or "heat" (0 see-through))]. Hover gives each pixel's value."""
    count = 1 + len(panels)
    gap = 0.04
    width = (1 - gap * (count - 1)) / count
    traces, layout = [], dict(height=height, margin=dict(l=10, r=10, t=30, b=10), annotations=[], showlegend=False)
    picture = np.asarray(image, dtype=float)
    for slot, (title, values, kind) in enumerate([("the image", None, None), *panels]):
        axis = "" if slot == 0 else str(slot + 1)
        traces.append(go.Heatmap(z=picture, colorscale=IMAGE_SCALE, zmin=0, zmax=255, showscale=False,
                                 xaxis=f"x{axis}", yaxis=f"y{axis}", hovertemplate="pixel %{z:.0f}<extra></extra>"))
        if values is not None:
            values = np.asarray(values, dtype=float)
            limit = float(np.abs(values).max()) or 1.0
            bounds = dict(zmin=-limit, zmax=limit) if kind == "diverging" else dict(zmin=0, zmax=limit)
            traces.append(go.Heatmap(z=values, colorscale=DIVERGING if kind == "diverging" else HEAT, showscale=False,
                                     xaxis=f"x{axis}", yaxis=f"y{axis}", hovertemplate="%{z:.3g}<extra></extra>",
                                     **bounds))
        start = slot * (width + gap)
        layout[f"xaxis{axis}"] = dict(domain=[start, start + width], visible=False, constrain="domain",
                                      anchor=f"y{axis}")
        layout[f"yaxis{axis}"] = dict(autorange="reversed", visible=False, scaleanchor=f"x{axis}", anchor=f"x{axis}")
        layout["annotations"].append(dict(text=title, x=start + width / 2, y=1, xref="paper", yref="paper",
                                          yanchor="bottom", showarrow=False))
    return go.Figure(data=traces, layout=layout)


def saliency_figure(image, saliency, gradient_times_input, class_name: str) -> go.Figure:
    """The image, its saliency and its gradient × input for the class class_name, red/blue over the image."""
    return overlays_figure(image, [(f"saliency for {class_name}", saliency, "diverging"),
                                   ("gradient × input", gradient_times_input, "diverging")])


## Convolutions


def feature_maps_figure(maps, columns: int = 16) -> Figure:
    """One convolution's feature maps (height, width, filters) in a grid, on one shared scale (black = 0)."""
    maps = np.asarray(maps, dtype=float)
    filters = maps.shape[-1]
    rows = int(np.ceil(filters / columns))
    top = float(maps.max()) or 1.0
    figure = Figure(figsize=(0.8 * columns, 0.9 * rows), layout="constrained")
    for index, axes in enumerate(figure.subplots(rows, columns, squeeze=False).flat):
        axes.axis("off")
        if index < filters:
            axes.imshow(maps[..., index], cmap="magma", vmin=0, vmax=top)
            axes.set_title(str(index), fontsize=7)
    return figure


## The hidden-space map


def hidden_space_figure(points, labels, predicted, class_names, ranges=None, height: int = 620,
                        chosen=()) -> go.Figure:
    """Every image as a point (points (N, 2)), one WebGL trace per true class (its Okabe–Ito colour and shape);
    mistakes ringed in black; the test indices chosen (with the keyboard) ringed large in blue, in a last trace.

    Each point's customdata is [test index, true class, predicted class], so a click or lasso selection
    (st.plotly_chart(on_select=...)) gives the images back through selected_indices. ranges: ((x0, x1), (y0, y1))
    keeps the axes fixed, e.g. across epochs.
    """
    points, labels, predicted = np.asarray(points), np.asarray(labels), np.asarray(predicted)
    names = [as_chart_text(name) for name in class_names]
    details = np.stack([np.arange(len(labels)), labels, predicted], axis=1)
    hover = [f"test image {index}<br>true: {names[true]}<br>predicted: {names[guess]}"
             for index, true, guess in details]
    traces = []
    for label, (colour, symbol) in enumerate(zip(class_colours(len(names)), class_symbols(len(names)), strict=True)):
        members = np.flatnonzero(labels == label)
        traces.append(go.Scattergl(x=points[members, 0], y=points[members, 1], mode="markers", name=names[label],
                                   marker=dict(size=7, color=colour, symbol=symbol, line=dict(color=MARK_EDGE, width=0.6)),
                                   customdata=details[members].tolist(), hovertext=[hover[index] for index in members],
                                   hoverinfo="text"))
    wrong = np.flatnonzero(labels != predicted)
    traces.append(go.Scattergl(x=points[wrong, 0], y=points[wrong, 1], mode="markers", name="mistakes (ringed)",
                               marker=dict(size=12, color="rgba(0,0,0,0)", line=dict(color=MISTAKE, width=1.4)),
                               customdata=details[wrong].tolist(), hovertext=[hover[index] for index in wrong],
                               hoverinfo="text"))
    chosen = np.asarray(chosen, dtype=np.int64)
    if len(chosen):
        traces.append(go.Scattergl(x=points[chosen, 0], y=points[chosen, 1], mode="markers", name="chosen (ringed blue)",
                                   marker=dict(size=18, color="rgba(0,0,0,0)", line=dict(color=CHOSEN, width=2.5)),
                                   customdata=details[chosen].tolist(), hovertext=[hover[index] for index in chosen],
                                   hoverinfo="text"))
    axes = [dict(title=title, zeroline=False) for title in ("first direction", "second direction")]
    if ranges is not None:
        for axis, bounds in zip(axes, ranges, strict=True):
            axis["range"] = [float(bounds[0]), float(bounds[1])]
    # Dragging zooms and a click selects a dot; in lasso mode Plotly ignores clicks on WebGL points, so the lasso
    # stays a tool of the chart's toolbar.
    return go.Figure(data=traces, layout=dict(
        height=height, margin=dict(l=10, r=10, t=40, b=10), xaxis=axes[0], yaxis=axes[1], dragmode="zoom",
        clickmode="event+select", legend=dict(itemsizing="constant", title="true class"), uirevision="hidden-space"))


def padded_ranges(points, margin: float = 0.05) -> tuple:
    """((x0, x1), (y0, y1)) around all points (…, 2) with a margin, to keep axes fixed across epochs."""
    flat = np.asarray(points, dtype=float).reshape(-1, 2)
    low, high = flat.min(axis=0), flat.max(axis=0)
    pad = (high - low) * margin + 1e-9
    return tuple((float(low[axis] - pad[axis]), float(high[axis] + pad[axis])) for axis in range(2))


def selected_indices(selected_points) -> list[int]:
    """Test indices of the points in a Plotly selection (their customdata[0]), without repeats, in order."""
    indices = []
    for point in selected_points or ():
        data = point.get("customdata")
        # A list from JSON, or a dict {"0": index, …} when the figure carried a numpy array (a typed array).
        index = data.get("0", data.get(0)) if isinstance(data, dict) else data[0] if isinstance(data, list) else data
        if isinstance(index, (int, float)) and int(index) not in indices:
            indices.append(int(index))
    return indices


## The learning-rate finder


def learning_rate_figure(curve, suggestion=None, height: int = 340) -> go.Figure:
    """Loss against learning rate on a log axis (raw thin, smoothed bold), with the suggestions marked; every line
    and mark at least 3:1 against the white page."""
    traces = [
        go.Scatter(x=curve.learning_rates, y=curve.losses, mode="lines", name="loss per batch",
                   line=dict(color="#7b93b8", width=1), hovertemplate="rate %{x:.2g}: loss %{y:.3f}<extra></extra>"),
        go.Scatter(x=curve.learning_rates, y=curve.smoothed_losses, mode="lines", name="smoothed",
                   line=dict(color="#1f5fbf", width=2.5), hovertemplate="rate %{x:.2g}: %{y:.3f}<extra></extra>"),
    ]
    if suggestion is not None:
        # Okabe–Ito green and vermillion (3.4:1 and 3.9:1 on white; the orange #ff7f0e was 2.5:1), named in the legend.
        for name, rate, loss, colour in (("valley (suggested)", suggestion.valley, suggestion.valley_loss, "#009E73"),
                                         ("steepest descent", suggestion.steepest, suggestion.steepest_loss,
                                          "#D55E00")):
            traces.append(go.Scatter(x=[rate], y=[loss], mode="markers", name=f"{name}: {rate:.2g}",
                                     marker=dict(size=12, color=colour, line=dict(color="white", width=1)),
                                     hovertemplate=f"{name}<br>rate {rate:.2g}<extra></extra>"))
    top = float(np.max(curve.smoothed_losses)) if len(curve.smoothed_losses) else 1.0
    return go.Figure(data=traces, layout=dict(
        height=height, margin=dict(l=10, r=10, t=10, b=10), legend=dict(orientation="h", y=-0.25),
        xaxis=dict(type="log", title="learning rate (log scale)", exponentformat="power"),
        yaxis=dict(title="training loss", range=[0, top * 1.3])))
