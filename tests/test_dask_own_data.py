"""A class's own dataset trained on a real Dask cluster whose workers cannot read the server's disk: the dataset is
sent with the task (once per checksum), verified there, and the model lands in the server's store."""

import secrets

import distributed
import numpy as np
import pytest

from mnistlib import datasets, models, store, training, user_datasets
from mnistlib.training import dask_cluster, worker

pytestmark = pytest.mark.filterwarnings("ignore:Port 8787 is already in use")
CLASSES = ("ring", "bar", "cross")


def shapes_arrays(generator) -> dict:
    """A learnable 3-class dataset: noisy rings, bars and crosses, 60 training and 15 test images (28, 28) uint8."""
    rows, columns = np.mgrid[:28, :28]
    ring = (np.abs(np.hypot(rows - 14, columns - 14) - 8) < 2).astype(float)
    bar = (np.abs(columns - 14) < 3).astype(float)
    cross = ((np.abs(rows - columns) < 2) | (np.abs(rows + columns - 27) < 2)).astype(float)
    shapes = np.stack([ring, bar, cross])

    def make(count):
        labels = np.arange(count) % 3
        pictures = shapes[labels] * 220 + generator.normal(0, 20, (count, 28, 28))
        return np.clip(pictures, 0, 255).astype(np.uint8), labels

    (x_train, y_train), (x_test, y_test) = make(60), make(15)
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


@pytest.fixture(scope="module")
def server_data(tmp_path_factory):
    """The server's data folder, holding the user dataset "shapes" (set as MNISTLIB_DATA_DIR for the module)."""
    folder = tmp_path_factory.mktemp("server-data")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MNISTLIB_DATA_DIR", str(folder))
        datasets.add("shapes", shapes_arrays(np.random.default_rng(0)), CLASSES, title="Shapes")
        yield folder


@pytest.fixture(scope="module")
def cluster(server_data, tmp_path_factory, bare_main):
    """One worker process whose data folder is empty: it cannot read what the server stored."""
    empty = tmp_path_factory.mktemp("worker-data")
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       resources={"training": 1}, dashboard_address=None,
                                       env={"MNISTLIB_DATA_DIR": str(empty)})
    yield cluster
    cluster.close()


@pytest.fixture(scope="module")
def trainer(cluster):
    trainer = training.Trainer(backend=dask_cluster.DaskCluster(cluster.scheduler_address))
    yield trainer
    trainer.shutdown()


def request(seed: int, epochs: int = 2):
    return training.TrainRequest("shapes", models.ModelSpec(hidden_units=32, seed=seed), epochs, subset="small")


def scattered(cluster) -> list:
    """Keys of the data the server sent to the cluster (everything but the training tasks)."""
    return [key for key in cluster.scheduler.tasks if not str(key).startswith("mnistlib-train-")]


def test_the_workers_cannot_read_the_servers_dataset(trainer, cluster):
    with distributed.Client(cluster.scheduler_address, set_as_default=False) as client:
        seen = client.run(lambda: (datasets.available(), datasets.custom_names()))
    assert list(seen.values()) == [(["mnist", "fashion_mnist"], [])]
    # Sent without its arrays, the training fails on the worker: it does not know the dataset.
    outcome = trainer.backend.submit(secrets.token_hex(6), request(seed=1).to_dict()).result(timeout=300)
    assert outcome.kind == "Failed" and "Unknown dataset 'shapes'" in outcome.message


def test_a_class_dataset_is_sent_with_the_task_and_trains_there(trainer, cluster):
    state = trainer.submit(request(seed=2)).wait(300)
    assert state.status == "finished", state.message
    assert any(address in state.where for address in cluster.scheduler.workers), state.where
    card = store.load_card(state.model_id)
    assert card.dataset == "shapes" and card.test_size == 15 and card.epochs_run == 2
    # The worker computed the request's key from the data it received: the same as the server's.
    assert card.request_key == request(seed=2).key()
    assert store.load_probabilities(state.model_id).shape == (2, 15, 3)
    assert card.test_accuracy > 0.6  # learnable shapes: far above the 1/3 of guessing
    sent_once = scattered(cluster)
    assert len(sent_once) == 1
    # A second training of the same dataset reuses what was sent: nothing new is scattered.
    again = trainer.submit(request(seed=3, epochs=1)).wait(300)
    assert again.status == "finished", again.message
    assert scattered(cluster) == sent_once


def test_to_arrays_and_from_arrays_round_trip_and_refuse_damage(server_data):
    sent = datasets.to_arrays("shapes", "small")
    assert sent["class_names"] == list(CLASSES) and sent["title"] == "Shapes"
    assert sent["checksum"] == user_datasets.arrays_checksum(datasets.info("shapes").sha256)
    received = datasets.from_arrays("shapes-copy", "small", sent)
    try:
        assert datasets.info("shapes-copy").class_names == CLASSES
        assert datasets.load("shapes-copy", "small").subset == worker.dataset("shapes-copy", "small", sent).subset
        for part in datasets.PARTS:
            np.testing.assert_array_equal(getattr(received, part), sent[part])
            assert not getattr(received, part).flags.writeable
        damaged = {**sent, "y_test": np.roll(sent["y_test"], 1)}
        with pytest.raises(datasets.DataCorruptError, match="arrived damaged"):
            datasets.from_arrays("shapes-broken", "small", damaged)
        with pytest.raises(ValueError, match="Unknown dataset 'shapes-broken'"):
            datasets.info("shapes-broken")
    finally:
        user_datasets._sent.pop("shapes-copy", None)
        worker._datasets.clear()


def test_a_damaged_dataset_fails_its_job_with_a_message_and_sends_nothing(trainer, cluster, server_data):
    datasets.add("damaged", shapes_arrays(np.random.default_rng(1)), CLASSES)
    np.save(server_data / "custom" / "damaged" / "y_test.npy", np.zeros(15, np.uint8))
    before = scattered(cluster)
    state = trainer.submit(training.TrainRequest("damaged", models.ModelSpec(seed=4), 1, subset="small")).wait(60)
    assert state.status == "failed"
    assert state.message.startswith("This training could not start: ") and "y_test.npy does not hold" in state.message
    assert scattered(cluster) == before
