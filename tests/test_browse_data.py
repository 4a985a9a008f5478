"""mnistlib.browse_data: the payload the Predict page's browser reads, checked against numpy."""

import json
import struct
import zlib

import numpy as np
import pytest

from mnistlib import browse_data, datasets


def softmax_rows(rng, epochs, size, classes):
    """(epochs, size, classes) float32 probabilities, each row summing to 1."""
    scores = rng.normal(0, 3, (epochs, size, classes)).astype(np.float32)
    exponentials = np.exp(scores - scores.max(axis=2, keepdims=True))
    return exponentials / exponentials.sum(axis=2, keepdims=True)


def test_round_trip_with_the_small_mnist_subset(rng):
    data = datasets.load("mnist", subset="small")
    probabilities = softmax_rows(rng, 3, len(data.y_test), 10)
    payload = browse_data.pack("model-1", data.x_test, data.y_test, probabilities, data.class_names)
    unpacked = browse_data.unpack(payload)
    assert unpacked.id == "model-1" and unpacked.class_names == data.class_names
    np.testing.assert_array_equal(unpacked.images, data.x_test)
    np.testing.assert_array_equal(unpacked.labels, data.y_test)
    np.testing.assert_array_equal(unpacked.predicted, np.argmax(probabilities, axis=2))
    assert np.abs(unpacked.probabilities - probabilities).max() <= 0.5 / browse_data.SCALE + 1e-7
    assert len(payload) < data.x_test.nbytes  # compressed: smaller than the raw images alone


@pytest.mark.parametrize("classes", [2, 20])
def test_any_number_of_classes_from_2_to_20(rng, classes):
    size = 50
    images = rng.integers(0, 256, (size, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, classes, size)
    probabilities = softmax_rows(rng, 4, size, classes)
    names = [f"class {k}" for k in range(classes)]
    unpacked = browse_data.unpack(browse_data.pack("m", images, labels, probabilities, names))
    assert unpacked.probabilities.shape == (4, size, classes) and unpacked.class_names == tuple(names)
    np.testing.assert_array_equal(unpacked.predicted, np.argmax(probabilities, axis=2))
    np.testing.assert_array_equal(unpacked.images, images)


def test_the_documented_layout(rng):
    images = rng.integers(0, 256, (7, 5, 3), dtype=np.uint8)  # any image size, odd lengths: padding is needed
    labels = np.array([0, 1, 2, 0, 1, 2, 0])
    probabilities = softmax_rows(rng, 2, 7, 3)
    payload = browse_data.pack("layout", images, labels, probabilities, ["a", "b", "c"])
    assert payload[:4] == b"MLB1"
    (header_length,) = struct.unpack("<I", payload[4:8])
    header = json.loads(payload[8:8 + header_length])
    body = zlib.decompress(payload[8 + header_length:])
    assert (header["images"], header["height"], header["width"], header["classes"], header["epochs"]) == (7, 5, 3, 3, 2)
    assert header["body_length"] == len(body)
    sections = header["sections"]
    assert list(sections) == ["probabilities", "predicted", "labels", "images"]
    assert all(section["offset"] % 8 == 0 for section in sections.values())
    stored = np.frombuffer(body, "<u2", count=2 * 7 * 3, offset=sections["probabilities"]["offset"])
    np.testing.assert_array_equal(stored, np.round(probabilities.ravel() * 65535))
    assert body[sections["images"]["offset"]:][:images.size] == images.tobytes()
    assert sections["predicted"]["shape"] == [2, 7] and sections["images"]["dtype"] == "uint8"


def test_the_predicted_label_is_numpy_argmax_of_the_float32_values_not_of_the_rounded_ones():
    probabilities = np.array([[[0.199999, 0.4, 0.400001], [0.5, 0.5, 0.0]]], dtype=np.float32)
    payload = browse_data.pack("ties", np.zeros((2, 2, 2), np.uint8), [1, 0], probabilities, ["a", "b", "c"])
    unpacked = browse_data.unpack(payload)
    assert unpacked.probabilities[0, 0, 1] == unpacked.probabilities[0, 0, 2]  # equal once rounded to 1/65535
    np.testing.assert_array_equal(unpacked.predicted, [[2, 0]])


@pytest.mark.parametrize("shape, names, expected", [
    ((3, 9, 10), 10, "for 9 images and 10 classes, but this test set has 10 images and 10 classes"),
    ((3, 10, 9), 10, "for 10 images and 9 classes, but this test set has 10 images and 10 classes"),
    ((10, 10), 10, "not (epochs, images, classes)"),
    ((0, 10, 10), 10, "not (epochs, images, classes)"),
])
def test_probabilities_that_do_not_fit_the_test_set_are_named(shape, names, expected):
    images, labels = np.zeros((10, 28, 28), np.uint8), np.arange(10) % 10
    problem = browse_data.mismatch(images, labels, np.full(shape, 0.1, np.float32), [str(k) for k in range(names)])
    assert expected in problem
    with pytest.raises(ValueError, match="cannot be browsed together"):
        browse_data.pack("m", images, labels, np.full(shape, 0.1, np.float32), [str(k) for k in range(names)])


def test_labels_out_of_range_and_values_that_are_not_numbers_are_named():
    images, probabilities = np.zeros((4, 28, 28), np.uint8), np.full((1, 4, 3), 1 / 3, np.float32)
    assert "between 0 and 2" in browse_data.mismatch(images, [0, 1, 2, 3], probabilities, "abc")
    probabilities[0, 2, 1] = np.nan
    assert "not numbers" in browse_data.mismatch(images, [0, 1, 2, 2], probabilities, "abc")
    assert browse_data.mismatch(images, [0, 1, 2, 2], np.full((1, 4, 3), 1 / 3), "abc") is None


def test_unpack_refuses_what_is_not_a_whole_payload(rng):
    payload = browse_data.pack("m", np.zeros((3, 2, 2), np.uint8), [0, 1, 0], softmax_rows(rng, 1, 3, 2), "ab")
    with pytest.raises(ValueError, match="not a browse payload"):
        browse_data.unpack(b"PNG" + payload)
    with pytest.raises(ValueError, match="damaged or incomplete"):
        browse_data.unpack(payload[:-5])
