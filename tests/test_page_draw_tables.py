"""Draw's probabilities also as a table (AppTest, a real upload): one row per class, the model's own numbers, the
predicted class named in words."""

import numpy as np
import pytest

from mnistlib import datasets, models, store
from tests.page_runs import run_page
from tests.test_ui_insight import png, upload


@pytest.fixture(autouse=True)
def small_subset(monkeypatch):
    monkeypatch.setenv("MNISTLIB_SUBSET", "small")


def test_the_probabilities_of_an_upload_are_also_a_table(stored_mnist_model):
    image = datasets.load("mnist", subset="small").x_test[4]
    app = upload(run_page("app_pages/draw.py", query={"model": stored_mnist_model.id}), png(image))
    assert not app.exception
    [table] = [table.value for table in app.table if "probability" in table.value.columns]
    expected = models.predict_images(store.load_model(stored_mnist_model.id), image[None])[0]
    assert table["class"].tolist() == [str(digit) for digit in range(10)]
    assert table["probability"].tolist() == [f"{p:.1%}" for p in expected]
    assert table["answer"].tolist().index("predicted") == int(np.argmax(expected))
