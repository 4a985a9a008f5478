"""Figures in words for a screen reader: each sentence and table checked on hand-made arrays, then on a real CNN's
explanation against a reference computed pixel by pixel."""

import numpy as np
import pytest

from mnistlib import datasets, insight, models
from mnistlib import figure_summaries as summaries


@pytest.fixture(scope="module")
def data():
    return datasets.load("mnist", subset="small")


@pytest.fixture(scope="module")
def cnn_model(data):
    """A small CNN trained one epoch on the small subset (seeded)."""
    model = models.build(models.ModelSpec(architecture="cnn", hidden_units=16, seed=1))
    model.fit(data.x_train / 255.0, data.y_train, epochs=1, batch_size=32, verbose=0)
    return model


def test_the_saliency_sentence_counts_and_locates_the_pixels():
    values = np.zeros((28, 28))
    values[5:8, 10:12] = np.arange(1, 7).reshape(3, 2)  # six pixels for, strongest at the bottom right of the block
    values[20, 3] = -1.0
    sentence = summaries.saliency_summary(values, "7", strongest=2)
    assert sentence == ("In words: 6 inked pixels raise the probability of 7 and 1 lower it; the 2 that raise it "
                        "most lie in row 7 and columns 10–11 of the 28×28 image (0 = top left).")
    assert summaries.saliency_summary(-values.clip(0), "3") == ("In words: no inked pixel raises the probability of 3; "
                                                              "6 lower it.")


def test_the_activation_sentence_names_the_strongest_units():
    activations = np.array([0.0, 2.5, 0.0, 0.75, 3.0, 0.5, 0.0, 0.0])
    assert summaries.activation_summary(activations) == ("In words: 4 of the 8 units respond to this image (above 0); "
                                                         "the strongest are units 4 (3.00), 1 (2.50) and 3 (0.75).")
    one = np.zeros(8)
    one[6] = 1.25
    assert summaries.activation_summary(one).endswith("1 of the 8 units respond to this image (above 0); the strongest "
                                                      "is unit 6 (1.25).")
    assert summaries.activation_summary(np.zeros(4)) == ("In words: none of the 4 units responds to this image (every "
                                                         "one is 0 or below).")


def test_the_activation_table_lists_every_unit_largest_first_with_its_push():
    activations = np.array([0.0, 2.5, 0.0, 3.0])
    pushes = activations * np.array([1.0, -0.5, 2.0, 0.25])
    table = summaries.activation_table(activations, pushes, "7")
    assert table == {"unit": [3, 1, 0, 2], "activation": [3.0, 2.5, 0.0, 0.0], "push toward 7": [0.75, -1.25, 0.0, 0.0]}


def test_the_grad_cam_sentence_finds_the_heat_and_its_thirds():
    heat = np.zeros((28, 28))
    heat[2:6, 11:16] = 1.0  # the top centre (rows 0–9, columns 10–18) …
    heat[3, 13] = 5.0  # … hottest here
    heat[25, 1] = 1.0  # and a little in the bottom left
    total = heat.sum()  # 4·5 − 1 + 5 + 1 = 25
    parts = summaries.heat_parts(heat)
    assert parts.shape == (3, 3) and parts.sum() == 1.0
    assert parts[0, 1] == 24 / total and parts[2, 0] == 1 / total and parts[1].sum() == 0
    assert summaries.grad_cam_summary(heat, "7") == (
        "In words: the Grad-CAM heat for 7 is hottest at row 3, column 13 (0 = top left). Of the image cut into 3×3 "
        "parts, the top centre holds the largest share of the heat (96%; no other part holds more); the top, middle "
        "and bottom thirds hold 96%, 0% and 4%.")
    assert "is 0 everywhere" in summaries.grad_cam_summary(np.zeros((28, 28)), "7")
    centre = np.zeros((28, 28))
    centre[14, 14] = 1.0
    assert "parts, the centre holds the largest share of the heat (100%;" in summaries.grad_cam_summary(centre, "1")


def test_the_grad_cam_table_is_the_3x3_shares_with_their_pixels():
    heat = np.zeros((28, 28))
    heat[0, 27], heat[27, 0] = 3.0, 1.0
    table = summaries.heat_table(heat)
    assert table["part of the image"] == ["top (rows 0–9)", "middle (rows 10–18)", "bottom (rows 19–27)"]
    assert list(table)[1:] == ["left (columns 0–9)", "centre (columns 10–18)", "right (columns 19–27)"]
    assert table["right (columns 19–27)"] == [0.75, 0.0, 0.0] and table["left (columns 0–9)"] == [0.0, 0.0, 0.25]


def test_the_feature_maps_sentence_names_the_filters_that_respond_most():
    maps = np.zeros((26, 26, 5))
    maps[..., 2] = 0.5
    maps[:13, :, 4] = 2.0  # mean 1.0, the largest
    maps[0, 0, 0] = 1.0  # responds, but little on average
    assert summaries.feature_maps_summary(maps) == ("In words: 3 of the 5 filters respond somewhere in this image; "
                                                    "filters 4, 2 and 0 respond most on average over it.")
    assert summaries.feature_maps_summary(maps, strongest=1).endswith("; filter 4 responds most on average over it.")
    assert summaries.feature_maps_summary(np.zeros((3, 3, 2))) == ("In words: none of the 2 filters responds anywhere "
                                                                   "in this image.")


def test_the_sentences_match_a_real_explanation(cnn_model, data):
    """The hottest pixel and the part named are the map's, the 3×3 shares equal a pixel-by-pixel count, the units and
    filters named are the largest."""
    explanation = insight.explain(cnn_model, data.x_test[0], data.class_names)
    cam = explanation.grad_cam
    assert cam.sum() > 0  # some heat to place
    shares = np.zeros((3, 3))
    for row in range(28):
        for column in range(28):
            shares[(row >= 10) + (row >= 19), (column >= 10) + (column >= 19)] += cam[row, column] / cam.sum()
    np.testing.assert_allclose(summaries.heat_parts(cam), shares, atol=1e-9)
    sentence = summaries.grad_cam_summary(cam, "7")
    row, column = np.unravel_index(np.argmax(cam), cam.shape)
    most = np.unravel_index(np.argmax(shares), shares.shape)
    assert f"row {row}, column {column}" in sentence and cam[row, column] == cam.max()
    assert f"parts, the {summaries.part_name(*most)} holds the largest share of the heat ({shares[most]:.0%};" in sentence
    activations = explanation.activations
    named = [int(unit) for unit in np.argsort(-activations, kind="stable")[:3] if activations[unit] > 0]
    assert all(f"{unit} ({activations[unit]:.2f})" in summaries.activation_summary(activations) for unit in named)
    for _, maps in insight.feature_maps(cnn_model, data.x_test[0]):
        means = maps.mean(axis=(0, 1))
        strongest = np.argsort(-means, kind="stable")[:3]
        assert f"filters {strongest[0]}, {strongest[1]} and {strongest[2]} respond most" in \
            summaries.feature_maps_summary(maps)
