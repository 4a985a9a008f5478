"""mnistlib.hidden_space (the 2-D map) against numpy's PCA, every epoch on fixed axes, and the map's figure."""

import keras
import numpy as np
import pytest

from mnistlib import datasets, hidden_space, insight, models, store
from mnistlib import insight_figures as figures


@pytest.fixture(scope="module")
def data():
    return datasets.load("mnist", subset="small")


@pytest.fixture(scope="module")
def dense_model(stored_mnist_model):
    return store.load_model(stored_mnist_model.id)


def test_project_2d_equals_pca_by_eigen_decomposition_up_to_sign(dense_model, data):
    activations = insight.hidden_activations(dense_model, data.x_test)
    points = hidden_space.project_2d(activations)
    assert insight.project_2d is hidden_space.project_2d  # the name, re-exported
    assert points.shape == (len(data.x_test), 2) and points.dtype == np.float32
    centred = activations.astype(np.float64) - activations.mean(axis=0)
    values, vectors = np.linalg.eigh(centred.T @ centred)
    expected = centred @ vectors[:, ::-1][:, :2]  # the two largest eigenvalues' directions
    for axis in range(2):
        sign = np.sign(points[:, axis] @ expected[:, axis])
        np.testing.assert_allclose(points[:, axis], sign * expected[:, axis], atol=1e-3)
    projection = hidden_space.fit_projection(activations)
    np.testing.assert_allclose(projection.explained, values[::-1][:2] / values.sum(), rtol=1e-6)
    assert (np.abs(projection.components).argmax(axis=1) ==
            np.argmax(projection.components, axis=1)).all()  # the sign convention: the largest loading positive


def test_every_epoch_is_drawn_on_the_final_epochs_axes(data):
    weights, model = [], models.build(models.ModelSpec(hidden_units=10, seed=4))
    keep = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: weights.append(model.get_weights()))
    model.fit(data.x_train / 255.0, data.y_train, epochs=2, verbose=0, callbacks=[keep])
    before = [w.copy() for w in model.get_weights()]
    per_epoch = insight.hidden_activations_per_epoch(model, weights, data.x_test)
    assert per_epoch.shape == (2, len(data.x_test), 10)
    np.testing.assert_allclose(per_epoch[-1], insight.hidden_activations(model, data.x_test), atol=1e-6)
    for kept, now in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(kept, now)  # the given model is untouched
    points, projection = hidden_space.hidden_space(per_epoch)
    assert points.shape == (2, len(data.x_test), 2)
    np.testing.assert_allclose(points[-1], hidden_space.project_2d(per_epoch[-1]), atol=1e-5)
    centred = per_epoch[0] - projection.mean
    np.testing.assert_allclose(points[0], centred @ projection.components.T, atol=1e-4)
    single, _ = hidden_space.hidden_space(per_epoch[-1:])  # a one-epoch model: one frame, no error
    assert single.shape == (1, len(data.x_test), 2)


def test_the_map_has_one_trace_per_class_and_gives_selected_images_back(data):
    points = np.random.default_rng(1).normal(size=(len(data.y_test), 2))
    predicted = data.y_test.copy()
    predicted[[3, 8]] = (predicted[[3, 8]] + 1) % 10
    figure = figures.hidden_space_figure(points, data.y_test, predicted, data.class_names)
    assert [trace.type for trace in figure.data] == ["scattergl"] * 11
    assert [trace.name for trace in figure.data[:10]] == list(data.class_names)
    assert sorted(row[0] for row in figure.data[-1].customdata) == [3, 8]  # the mistakes, ringed
    seven = figure.data[7]
    first_seven = int(np.flatnonzero(data.y_test == 7)[0])
    assert [row[0] for row in seven.customdata] == np.flatnonzero(data.y_test == 7).tolist()
    np.testing.assert_allclose(seven.x, points[data.y_test == 7, 0])
    # What st.plotly_chart(on_select="rerun") returns for a click and a lasso (duplicates from the mistakes trace);
    # customdata came back as a dict when the figure carried numpy arrays.
    chosen = [{"curve_number": 7, "point_index": 0, "customdata": seven.customdata[0]},
              {"curve_number": 10, "point_index": 1, "customdata": [8, int(data.y_test[8]), int(predicted[8])]},
              {"curve_number": 0, "point_index": 4, "customdata": {"0": 8, "1": 0, "2": 0}}]
    assert figures.selected_indices(chosen) == [first_seven, 8]
    assert figures.selected_indices(None) == []


def test_bad_activations_get_a_sentence():
    with pytest.raises(ValueError, match="at least 2 images"):
        hidden_space.project_2d(np.zeros((1, 5)))
    projection = hidden_space.fit_projection(np.random.default_rng(0).normal(size=(20, 5)))
    with pytest.raises(ValueError, match=r"shape \(N, 5\)"):
        projection.apply(np.zeros((3, 4)))
