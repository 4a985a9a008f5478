"""Reading IDX files (the format MNIST and Fashion-MNIST are published in) with numpy."""

import gzip

import numpy as np

# The third byte of an IDX header names the element type; MNIST uses only unsigned bytes.
IDX_UNSIGNED_BYTE = 0x08


def parse_idx(data: bytes) -> np.ndarray:
    """Decode IDX bytes (gzipped or not) into a uint8 array of the shape the header gives."""
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as error:
            raise ValueError(f"the gzip stream is damaged ({error})") from error
    if len(data) < 4:
        raise ValueError("too short to be an IDX file")
    zero, zero_again, element_type, dimensions = data[0], data[1], data[2], data[3]
    if zero or zero_again or element_type != IDX_UNSIGNED_BYTE or not 1 <= dimensions <= 4:
        raise ValueError("not an IDX file of unsigned bytes (wrong magic number)")
    header_size = 4 + 4 * dimensions
    if len(data) < header_size:
        raise ValueError("the IDX header is cut short")
    shape = tuple(int(size) for size in np.frombuffer(data, dtype=">u4", count=dimensions, offset=4))
    expected = header_size + int(np.prod(shape))
    if len(data) != expected:
        raise ValueError(f"expected {expected} bytes for shape {shape}, found {len(data)} (truncated or padded)")
    return np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(shape)


def write_idx(array: np.ndarray) -> bytes:
    """Encode a uint8 array of 1–4 dimensions as IDX bytes (used by tests and tools)."""
    if array.dtype != np.uint8 or not 1 <= array.ndim <= 4:
        raise ValueError("write_idx takes a uint8 array with 1 to 4 dimensions")
    header = bytes([0, 0, IDX_UNSIGNED_BYTE, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    return header + np.ascontiguousarray(array).tobytes()
