"""Image decoding and MNIST-style preparation, on hand-made arrays and files."""

import io

import numpy as np
import pytest
from PIL import Image

from mnistlib import images


def stroke_digit(size=28, top=4, left=10, height=20, width=8) -> np.ndarray:
    """A bright vertical bar with a foot: a crude "1" (white on black), uint8."""
    image = np.zeros((size, size), np.uint8)
    image[top : top + height, left + width // 2 - 1 : left + width // 2 + 2] = 255
    image[top + height - 2 : top + height, left : left + width] = 200
    return image


def encode(array_or_image, format="PNG", **options) -> bytes:
    image = array_or_image if isinstance(array_or_image, Image.Image) else Image.fromarray(array_or_image)
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


## Preparation


def test_an_off_centre_digit_is_centred_and_scaled_to_20_px():
    canvas = np.zeros((200, 300), np.uint8)
    canvas[10:90, 20:60] = 255  # tall block in the top-left corner
    result = images.preprocess(canvas)
    assert result.shape == (28, 28) and result.dtype == np.uint8
    rows, columns = np.nonzero(result > 25)
    assert rows.max() - rows.min() + 1 == 20  # longer side 20 px
    assert columns.max() - columns.min() + 1 == 10  # aspect ratio 2:1 kept
    row, column = images.centre_of_mass(result.astype(float))
    assert abs(row - 14) <= 1 and abs(column - 14) <= 1


def test_dark_ink_on_light_paper_is_inverted():
    paper = np.full((100, 100), 240, np.uint8)
    paper[20:80, 45:55] = 10
    result = images.preprocess(paper)
    assert result[14, 14] > 200 and result[0, 0] == 0


def test_a_centred_mnist_like_digit_is_kept():
    digit = stroke_digit()
    assert images.looks_like_mnist(digit)
    kept, already = images.model_input(digit)
    assert already and np.array_equal(kept, digit)
    prepared = images.preprocess(digit)
    before, after = images.centre_of_mass(digit.astype(float)), images.centre_of_mass(prepared.astype(float))
    assert abs(before[0] - after[0]) <= 1.5 and abs(before[1] - after[1]) <= 1.5


@pytest.mark.parametrize("fill", [0, 128, 255])
def test_empty_or_uniform_images_give_none(fill):
    assert images.preprocess(np.full((50, 40), fill, np.uint8)) is None
    assert images.preprocess_steps(np.full((50, 40), fill, np.uint8)) == []


def test_canvas_white_strokes_on_transparent_and_black_strokes_on_white_agree():
    white_on_clear = np.zeros((100, 100, 4), np.uint8)
    white_on_clear[20:80, 45:55] = [255, 255, 255, 255]
    black_on_white = np.full((100, 100, 4), 255, np.uint8)
    black_on_white[20:80, 45:55] = [0, 0, 0, 255]
    first = images.preprocess(images.canvas_to_gray(white_on_clear))
    second = images.preprocess(images.canvas_to_gray(black_on_white))
    np.testing.assert_array_equal(first, second)
    assert first.max() == 255


## Decoding


@pytest.mark.parametrize("format", ["PNG", "JPEG", "GIF", "BMP"])
def test_common_formats_round_trip(format):
    digit = stroke_digit()
    decoded = images.decode_upload(encode(digit, format))
    assert decoded.shape == (28, 28) and decoded.dtype == np.uint8
    assert np.abs(decoded.astype(int) - digit).mean() < 8  # JPEG is lossy


def test_sixteen_bit_is_scaled_not_clipped():
    values = (np.arange(28 * 28).reshape(28, 28) * 80).astype(np.uint16)
    image = Image.fromarray(values)
    assert image.mode.startswith("I;16")
    decoded = images.decode_upload(encode(image))
    assert decoded.max() == round(values.max() / 65535 * 255) and decoded.min() == 0


def test_palette_and_transparency():
    palette = Image.fromarray(stroke_digit()).convert("P")
    assert images.decode_upload(encode(palette)).max() == 255
    rgba = np.zeros((28, 28, 4), np.uint8)
    rgba[5:20, 12:15] = [0, 0, 0, 255]  # black ink on a transparent background
    decoded = images.decode_upload(encode(rgba))
    assert decoded[0, 0] == 255 and decoded[10, 13] == 0


def test_animated_gif_uses_the_first_frame():
    frames = [Image.fromarray(stroke_digit()), Image.fromarray(np.zeros((28, 28), np.uint8))]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    assert images.decode_upload(buffer.getvalue()).max() == 255


BAD_UPLOADS = {
    "empty": (b"", "empty"),
    "text": (b"hello, this is not an image\n" * 10, "not an image"),
    "pdf renamed": (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF", "not an image"),
    "truncated png": (encode(np.random.default_rng(0).integers(0, 255, (64, 64), dtype=np.uint8))[:400], "damaged"),
    "truncated jpeg": (encode(np.random.default_rng(0).integers(0, 255, (64, 64), dtype=np.uint8), "JPEG")[:300],
                       "damaged"),
    "huge dimensions": (encode(Image.new("1", (20000, 20000))), "too large|megapixels"),
    "too many bytes": (b"\x89PNG" + b"\0" * 3_000_000, "MB"),
}


@pytest.mark.parametrize("kind", BAD_UPLOADS)
def test_bad_uploads_raise_one_clear_image_error(kind):
    data, message = BAD_UPLOADS[kind]
    with pytest.raises(images.ImageError, match=message) as caught:
        images.decode_upload(data)
    assert str(caught.value).count(". ") <= 1 and "\n" not in str(caught.value)
