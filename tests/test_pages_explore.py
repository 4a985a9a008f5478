"""AppTest for Mistakes, Draw, Compare and Model insight: cells, pairs, uploads good and bad."""

import io
import re

import numpy as np
import pytest
from PIL import Image

from mnistlib import datasets, evaluation, models, names, store
from tests.conftest import train_and_store
from tests.page_runs import run_page, texts

EXPLORE_PAGES = ["app_pages/mistakes.py", "app_pages/draw.py", "app_pages/compare.py", "app_pages/insight.py"]


@pytest.fixture(autouse=True)
def small_subset(monkeypatch):
    monkeypatch.setenv("MNISTLIB_SUBSET", "small")


def final_predictions(card):
    return evaluation.predicted_labels(store.load_probabilities(card.id)[-1])


@pytest.mark.parametrize("path", EXPLORE_PAGES)
def test_explore_pages_render_on_a_fresh_state(path, models_dir):
    app = run_page(path)
    assert "No trained model" in texts(app) or "needs two trained models" in texts(app)


def gallery_indices(app) -> list[int]:
    """Test-image indices of the gallery, read from captions like "#85 · 43%"."""
    captions = [picture.caption for element in app.get("image") for picture in element.proto.imgs]
    return sorted(int(match.group(1)) for caption in captions if (match := re.match(r"#(\d+) · ", caption)))


def test_a_confusion_cell_lists_exactly_its_images(stored_fashion_model):
    data = datasets.load("fashion_mnist", subset="small")
    predicted = final_predictions(stored_fashion_model)
    true_class, predicted_class, _ = evaluation.most_confused(data.y_test, predicted, top=1)[0]
    app = run_page("app_pages/mistakes.py", query={"dataset": "fashion_mnist", "model": stored_fashion_model.id,
                                                 "true": str(true_class), "pred": str(predicted_class)})
    expected = evaluation.indices_for_cell(data.y_test, predicted, true_class, predicted_class)
    summary = next(m.value for m in app.markdown if "test images are" in m.value)
    assert summary.startswith(f"**{len(expected)}** test images are **{data.class_names[true_class]}**")
    assert len(expected) > 0 and gallery_indices(app) == sorted(expected[:40].tolist())


def test_most_confused_pairs_match_the_library_and_open_the_cell(stored_fashion_model):
    data = datasets.load("fashion_mnist", subset="small")
    predicted = final_predictions(stored_fashion_model)
    app = run_page("app_pages/mistakes.py", query={"dataset": "fashion_mnist", "model": stored_fashion_model.id})
    buttons = [button for button in app.button if button.key and button.key.startswith("mistakes_pair_")]
    expected = evaluation.most_confused(data.y_test, predicted, top=8)
    assert [button.label for button in buttons] == [
        f"{names.as_text(data.class_names[t])} → {names.as_text(data.class_names[p])}: {count}"
        for t, p, count in expected]  # T\-shirt/top: class names are shown as text
    true_class, predicted_class, count = expected[-1]
    buttons[-1].click().run()
    assert not app.exception
    assert app.query_params["true"] == str(true_class) and app.query_params["pred"] == str(predicted_class)
    assert any(m.value.startswith(f"**{count}** test images") for m in app.markdown)


def test_bad_cell_links_warn(stored_mnist_model):
    app = run_page("app_pages/mistakes.py", query={"model": stored_mnist_model.id, "true": "abc", "pred": "99"})
    assert "not two class numbers" in texts(app)


def png_bytes(array) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def upload(app, name, content, mime="image/png"):
    app.file_uploader(key="draw_upload").set_value((name, content, mime))
    app.run()
    assert not app.exception, app.exception
    return app


def test_an_uploaded_mnist_test_image_is_recognised_and_predicted_as_from_the_array(stored_mnist_model):
    data = datasets.load("mnist", subset="small")
    index = 3
    app = upload(run_page("app_pages/draw.py", query={"model": stored_mnist_model.id}), "digit.png",
                 png_bytes(data.x_test[index]))
    assert "already in MNIST form" in texts(app)
    expected = models.predict_images(store.load_model(stored_mnist_model.id), data.x_test[index : index + 1])[0]
    shown = next(m.value for m in app.markdown if m.value.startswith("### Predicted: "))
    assert shown == f"### Predicted: {np.argmax(expected)}"
    assert np.argmax(expected) == np.argmax(store.load_probabilities(stored_mnist_model.id)[-1][index])


@pytest.mark.parametrize("name, content", [
    ("empty.png", b""),
    ("notes.png", b"these are my notes, not a picture\n"),
    ("report.png", b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"),
    ("cut.png", png_bytes(np.random.default_rng(0).integers(0, 255, (64, 64), dtype=np.uint8))[:300]),
])
def test_bad_uploads_show_one_clear_error(stored_mnist_model, name, content):
    app = upload(run_page("app_pages/draw.py", query={"model": stored_mnist_model.id}), name, content)
    assert len(app.error) == 1 and app.error[0].value.endswith(".")
    assert not any(m.value.startswith("### Predicted") for m in app.markdown)


def test_a_fashion_model_says_it_knows_clothes(stored_fashion_model):
    app = run_page("app_pages/draw.py", query={"dataset": "fashion_mnist", "model": stored_fashion_model.id})
    assert "it knows clothes, shoes and bags, not digits" in texts(app)
    assert "Draw one piece of clothing, shoe or bag" in texts(app)  # the prompt follows the dataset


def test_compare_shows_both_accuracies_and_the_disagreements(stored_mnist_model):
    other = train_and_store("mnist", epochs=1, spec=models.ModelSpec(seed=3, hidden_units=32), name="small one")
    app = run_page("app_pages/compare.py", query={"dataset": "mnist"})
    app.selectbox(key="compare_a").set_value(stored_mnist_model.id)
    app.selectbox(key="compare_b").set_value(other.id)
    app.run()
    assert not app.exception
    accuracies = [metric.value for metric in app.metric if metric.label.startswith("Test accuracy")]
    expected = [f"{store.load_card(card.id).test_accuracy:.2%}" for card in (stored_mnist_model, other)]
    first, second = final_predictions(stored_mnist_model), final_predictions(other)
    labels = datasets.load("mnist", subset="small").y_test
    assert accuracies == [f"{evaluation.accuracy(labels, first):.2%}", f"{evaluation.accuracy(labels, second):.2%}"]
    assert len(expected) == 2
    count = int((first != second).sum())
    assert any(f"**{count}** of" in m.value for m in app.markdown)


def test_insight_shows_templates_for_a_dense_model(stored_mnist_model):
    app = run_page("app_pages/insight.py", query={"model": stored_mnist_model.id})
    assert app.slider(key="insight_units").value == 32
    assert "hidden unit's 784 weights" in texts(app)
