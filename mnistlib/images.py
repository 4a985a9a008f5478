"""Uploaded and drawn images: decode them safely, then prepare them the way MNIST's images were prepared.

MNIST's recipe (LeCun et al.): white ink on black, the digit scaled so its longer side is 20 pixels
(keeping its shape), then placed in a 28×28 field so that its centre of mass is at the centre.
"""

import io
import warnings

import numpy as np
from PIL import Image, UnidentifiedImageError

MAX_BYTES = 2_000_000
MAX_PIXELS = 4_000_000
BOX = 20  # the longer side of the digit, in pixels
SIZE = 28
CENTRE = 14.0  # MNIST's test images have their centre of mass at (14.0, 14.0) on average (measured)


class ImageError(ValueError):
    """An upload that cannot be used, with one sentence saying why and what to do."""


## Decoding


def decode_upload(data: bytes, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Grayscale pixels (H, W) uint8 0–255 of an uploaded image file; ImageError for anything unusable."""
    if not data:
        raise ImageError("The file is empty (0 bytes): choose a PNG or JPEG image.")
    if len(data) > max_bytes:
        raise ImageError(f"The file is {len(data) / 1e6:.1f} MB; images up to {max_bytes / 1e6:.0f} MB are accepted.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > max_pixels:
                raise ImageError(f"The image is {width}×{height} pixels; at most {max_pixels / 1e6:.0f} megapixels "
                                 "are accepted — make it smaller first.")
            image.seek(0)  # animated GIF/PNG/WebP: the first frame
            image.load()
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageError("The image is far too large (in pixels) to open safely; make it smaller first.") from error
    except UnidentifiedImageError as error:
        raise ImageError("This file is not an image that can be read (is it a PDF or text file renamed .png?); "
                         "upload a PNG, JPEG, GIF or BMP picture.") from error
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, MemoryError) as error:
        raise ImageError("The image file is damaged or cut short and cannot be decoded; save it again and "
                         "re-upload it.") from error
    if width == 0 or height == 0:
        raise ImageError("The image has no pixels.")
    return to_gray(image)


def to_gray(image: Image.Image) -> np.ndarray:
    """Any Pillow image as grayscale (H, W) uint8: 16-bit and float images scaled, transparency flattened."""
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        values = np.asarray(image, dtype=np.float64)
        top = 1.0 if mode == "F" and values.max() <= 1.0 else 255.0 if values.max() <= 255 else 65535.0
        if mode == "I" and values.max() > 65535:
            top = values.max()
        return np.clip(np.rint(values / top * 255.0), 0, 255).astype(np.uint8)
    if mode == "P" or mode == "PA":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "RGBa", "La"):
        rgba = np.asarray(image.convert("RGBA"))
        return canvas_to_gray(rgba)
    return np.asarray(image.convert("L"), dtype=np.uint8)


def canvas_to_gray(rgba: np.ndarray) -> np.ndarray:
    """RGBA (H, W, 4) uint8 (a drawing canvas or a transparent PNG) as grayscale (H, W) uint8.

    Transparent pixels become background. Which background depends on the ink: dark strokes are laid on
    white and light strokes on black, so both "black pen on paper" and "white chalk" drawings survive.
    """
    rgba = np.asarray(rgba, dtype=np.float64)
    luminance = rgba[..., :3] @ np.array([0.299, 0.587, 0.114])
    alpha = rgba[..., 3] / 255.0
    opaque = alpha > 0.5
    ink_is_dark = bool(opaque.any()) and np.median(luminance[opaque]) < 128
    background = 255.0 if ink_is_dark else 0.0
    return np.rint(luminance * alpha + background * (1.0 - alpha)).astype(np.uint8)


## MNIST-style preparation


def preprocess_steps(gray: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """Each step of the MNIST recipe as (title, image uint8); empty list when there is no ink at all."""
    gray = np.asarray(gray, dtype=np.float64)
    if gray.ndim != 2 or min(gray.shape) < 1:
        raise ImageError("Expected a grayscale image.")
    steps = [("your image", gray)]
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if np.median(border) > 127:  # a light background: MNIST is white ink on black, so invert
        gray = 255.0 - gray
        border = 255.0 - border
        steps.append(("inverted (white on black)", gray))
    ink = np.clip(gray - np.median(border), 0, None)
    if ink.max() < 25:  # nothing stands out from the background
        return []
    rows, columns = np.nonzero(ink > 0.1 * ink.max())
    ink = ink[rows.min() : rows.max() + 1, columns.min() : columns.max() + 1]
    steps.append(("cropped to the ink", ink))
    scale = BOX / max(ink.shape)
    height, width = max(1, round(ink.shape[0] * scale)), max(1, round(ink.shape[1] * scale))
    resized = np.asarray(Image.fromarray(ink.astype(np.float32), mode="F").resize((width, height), Image.LANCZOS))
    resized = np.clip(resized, 0, None)
    steps.append((f"longer side scaled to {BOX} px", resized))
    steps.append(("centred by mass in 28×28", _centre_by_mass(resized)))
    return [(title, _to_uint8(image)) for title, image in steps]


def preprocess(gray: np.ndarray) -> np.ndarray | None:
    """The model's input: (28, 28) uint8, white ink on black, MNIST-style; None when the image is empty."""
    steps = preprocess_steps(gray)
    return steps[-1][1] if steps else None


def _centre_by_mass(digit: np.ndarray) -> np.ndarray:
    """Place digit (h, w ≤ 20) in a 28×28 field so that its intensity-weighted centre lands on (14, 14)."""
    rows, columns = np.indices(digit.shape)
    total = digit.sum()
    centre_row, centre_column = (rows * digit).sum() / total, (columns * digit).sum() / total
    top = int(np.clip(round(CENTRE - centre_row), 0, SIZE - digit.shape[0]))
    left = int(np.clip(round(CENTRE - centre_column), 0, SIZE - digit.shape[1]))
    field = np.zeros((SIZE, SIZE))
    field[top : top + digit.shape[0], left : left + digit.shape[1]] = digit
    return field


def _to_uint8(image: np.ndarray) -> np.ndarray:
    """Stretch to 0–255 uint8 (the brightest ink pixel becomes 255, as in MNIST)."""
    top = image.max()
    return np.rint(image / top * 255.0).astype(np.uint8) if top > 0 else image.astype(np.uint8)


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    """Intensity-weighted (row, column) centre of an image."""
    rows, columns = np.indices(image.shape)
    total = float(image.sum()) or 1.0
    return float((rows * image).sum() / total), float((columns * image).sum() / total)


def looks_like_mnist(gray: np.ndarray) -> bool:
    """True for an image already in MNIST form: 28×28, dark background, ink centred within 2 px."""
    gray = np.asarray(gray)
    if gray.shape != (SIZE, SIZE):
        return False
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if np.median(border) > 30 or gray.max() < 25:
        return False
    row, column = centre_of_mass(gray.astype(np.float64))
    return abs(row - CENTRE) <= 2 and abs(column - CENTRE) <= 2


def model_input(gray: np.ndarray) -> tuple[np.ndarray | None, bool]:
    """(input (28, 28) uint8 or None if empty, already_mnist): an image already in MNIST form is used as it is."""
    if looks_like_mnist(gray):
        return np.asarray(gray, dtype=np.uint8), True
    return preprocess(gray), False
