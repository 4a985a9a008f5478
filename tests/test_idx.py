"""IDX parsing on tiny hand-made files."""

import gzip

import numpy as np
import pytest

from mnistlib.idx import parse_idx, write_idx


def test_labels_file_by_hand():
    data = bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1])
    np.testing.assert_array_equal(parse_idx(data), [7, 2, 1])


def test_images_round_trip_and_gzip():
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    encoded = write_idx(images)
    assert encoded[:4] == bytes([0, 0, 8, 3])
    np.testing.assert_array_equal(parse_idx(encoded), images)
    np.testing.assert_array_equal(parse_idx(gzip.compress(encoded)), images)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "too short"),
        (bytes([0, 0, 9, 1, 0, 0, 0, 1, 5]), "magic"),
        (bytes([0, 0, 8, 1, 0, 0, 0, 4, 1, 2]), "truncated"),
        (bytes([0, 0, 8, 2, 0, 0]), "cut short"),
        (b"\x1f\x8b" + b"not really gzip", "gzip"),
    ],
)
def test_bad_files_raise_clear_errors(data, message):
    with pytest.raises(ValueError, match=message):
        parse_idx(data)
