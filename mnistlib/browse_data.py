"""What browsing the test set in the browser needs, packed once into one compact payload (numpy + zlib only).

Layout of a payload (all integers little-endian):

    bytes 0–3    b"MLB1"                      magic and layout version
    bytes 4–7    uint32 n                     length of the header
    bytes 8…     n bytes of UTF-8 JSON        the header (below)
    then         zlib stream (RFC 1950)       the body: the sections below, each starting at a multiple of 8

Header: {"id": str, "images": M, "height": H, "width": W, "classes": C, "epochs": E,
"class_names": [C str], "body_length": int (decompressed), "sections": {name: {"offset", "length", "dtype", "shape"}}}
with the sections, in this order:

    probabilities  uint16  (E, M, C)  the test-set probabilities after each epoch as round(p × 65535): p within
                                      1/131070 (float16 is 30 times coarser near 1 and compresses worse)
    predicted      uint8   (E, M)     np.argmax of each row, computed on the float32 probabilities (exact ties)
    labels         uint8   (M,)       the true class of each test image, 0 ≤ label < C
    images         uint8   (M, H, W)  the test images, 0–255

A browser reads it with `DecompressionStream("deflate")` and typed-array views on the body.
"""

import json
import struct
import zlib
from dataclasses import dataclass

import numpy as np

MAGIC = b"MLB1"
ALIGNMENT = 8
MAX_CLASSES = 255  # labels and predicted classes travel as uint8
SCALE = 65535  # probabilities travel as round(p × SCALE) in uint16


@dataclass(frozen=True)
class BrowseData:
    """The unpacked payload: what the browser sees, for checks on the server side and in tests."""

    id: str
    class_names: tuple[str, ...]
    probabilities: np.ndarray  # (E, M, C) float64 0–1, read back from the uint16 section
    predicted: np.ndarray  # (E, M) uint8
    labels: np.ndarray  # (M,) uint8
    images: np.ndarray  # (M, H, W) uint8

    def __repr__(self) -> str:
        epochs, size, classes = self.probabilities.shape
        return f"BrowseData(id={self.id!r}, epochs={epochs}, images={size}, classes={classes})"


def mismatch(images, labels, probabilities, class_names) -> str | None:
    """Why the stored probabilities (E, M, C) cannot go with this test set, as one sentence, or None when they fit."""
    images, labels, probabilities = np.asarray(images), np.asarray(labels), np.asarray(probabilities)
    size, classes = len(labels), len(class_names)
    if probabilities.ndim != 3 or probabilities.shape[0] < 1:
        return f"the stored probabilities have shape {probabilities.shape}, not (epochs, images, classes)"
    if probabilities.shape[1:] != (size, classes):
        return (f"the stored probabilities are for {probabilities.shape[1]:,} images and {probabilities.shape[2]} "
                f"classes, but this test set has {size:,} images and {classes} classes")
    if images.ndim != 3 or len(images) != size:
        return f"the test set has {len(images):,} images of shape {images.shape[1:]} for {size:,} labels"
    if not 2 <= classes <= MAX_CLASSES:
        return f"{classes} classes cannot be browsed (2 to {MAX_CLASSES})"
    if size and (labels.min() < 0 or labels.max() >= classes):
        return f"the test labels are not all between 0 and {classes - 1}"
    if not np.isfinite(probabilities).all():
        return "the stored probabilities contain values that are not numbers"
    return None


def quantized(probabilities) -> np.ndarray:
    """Probabilities (any shape) float 0–1 as the payload carries them: round(p × 65535), uint16."""
    return np.round(np.clip(np.asarray(probabilities, dtype=np.float32), 0, 1) * SCALE).astype("<u2")


def pack(payload_id: str, images, labels, probabilities, class_names, level: int = 6) -> bytes:
    """The payload for images (M, H, W) uint8, labels (M,) int, probabilities (E, M, C) float (see the module doc)."""
    problem = mismatch(images, labels, probabilities, class_names)
    if problem:
        raise ValueError(f"These cannot be browsed together: {problem}.")
    probabilities = np.asarray(probabilities, dtype=np.float32)
    sections = {
        "probabilities": quantized(probabilities),
        "predicted": np.argmax(probabilities, axis=2).astype(np.uint8),
        "labels": np.asarray(labels).astype(np.uint8),
        "images": np.ascontiguousarray(images, dtype=np.uint8),
    }
    body, layout, offset = [], {}, 0
    for name, array in sections.items():
        data = array.tobytes()
        padding = -len(data) % ALIGNMENT
        layout[name] = {"offset": offset, "length": len(data), "dtype": array.dtype.name, "shape": list(array.shape)}
        body += [data, b"\0" * padding]
        offset += len(data) + padding
    epochs, size, classes = probabilities.shape
    header = json.dumps({
        "id": payload_id, "images": size, "height": int(sections["images"].shape[1]),
        "width": int(sections["images"].shape[2]), "classes": classes, "epochs": epochs,
        "class_names": [str(name) for name in class_names], "body_length": offset, "sections": layout,
    }).encode("utf-8")
    return MAGIC + struct.pack("<I", len(header)) + header + zlib.compress(b"".join(body), level)


def unpack(payload: bytes) -> BrowseData:
    """Read a payload made by pack() back into arrays (what the browser's component does, in numpy)."""
    if payload[:4] != MAGIC or len(payload) < 8:
        raise ValueError("This is not a browse payload (it does not start with MLB1).")
    (header_length,) = struct.unpack("<I", payload[4:8])
    header = json.loads(payload[8:8 + header_length].decode("utf-8"))
    try:
        body = zlib.decompress(payload[8 + header_length:])
    except zlib.error as error:
        raise ValueError(f"The browse payload's body is damaged or incomplete ({error}).") from error
    if len(body) != header["body_length"]:
        raise ValueError("The browse payload's body does not have the length its header states.")

    def section(name: str) -> np.ndarray:
        layout = header["sections"][name]
        data = body[layout["offset"]:layout["offset"] + layout["length"]]
        dtype = np.dtype(layout["dtype"]).newbyteorder("<")
        return np.frombuffer(data, dtype=dtype).reshape(layout["shape"])

    probabilities = section("probabilities") / SCALE  # float64, as the browser computes it
    return BrowseData(id=header["id"], class_names=tuple(header["class_names"]), probabilities=probabilities,
                      predicted=section("predicted"), labels=section("labels"), images=section("images"))
