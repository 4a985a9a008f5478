"""Home's overfitting lesson (AppTest): four links that open Train with each row's settings, "Train all four"
through the trainer, and the table of their results found by request key (a class's identical runs reused)."""

import re
from urllib.parse import parse_qsl, urlsplit

import pytest

from dashboard import jobs
from mnistlib import overfitting_lesson, store
from tests.page_runs import run_page

ADA = store.Actor("ada", "Ada")


@pytest.fixture(autouse=True)
def small_subset(monkeypatch):
    monkeypatch.setenv("MNISTLIB_SUBSET", "small")


def lesson_links(app) -> dict[str, dict]:
    """{row title: the query of its link} (outside the full app the links are Markdown links)."""
    found = {}
    for element in app.markdown:
        match = re.fullmatch(r"\[→ (.+)\]\((/Train\?[^)]+)\)", element.value)
        if match:
            found[match.group(1).replace("\\", "")] = dict(parse_qsl(urlsplit(match.group(2)).query))
    return found


def lesson_table(app) -> list[dict]:
    frame = next(frame for frame in app.table if "Reading" in frame.value.columns).value
    return frame.to_dict("records")


def test_each_row_is_a_link_that_opens_train_with_its_settings(models_dir):
    links = lesson_links(run_page("app_pages/home.py"))
    assert list(links) == [row.title for row in overfitting_lesson.ROWS]
    expected = {"500 images, as they are": (0.0, False, 0.0),
                "500 images, augmented (shifts, rotations, zooms)": (0.0, True, 0.0),
                "500 images, L2 weight decay 0.01": (0.01, False, 0.0),
                "500 images, 30% of the labels wrong": (0.0, False, 0.3)}
    for title, query in links.items():
        train = run_page("app_pages/train.py", query=query)
        assert not train.warning and not train.error
        assert (train.number_input(key="train_train_images").value, train.number_input(key="train_epochs").value,
                train.number_input(key="train_seed").value, train.slider(key="train_validation_split").value,
                train.select_slider(key="train_units").value) == (500, 30, 0, 0.1, 128)
        assert (train.select_slider(key="train_l2").value, train.checkbox(key="train_augment").value,
                train.slider(key="train_label_noise").value) == expected[title]
    table = lesson_table(run_page("app_pages/home.py"))
    assert [row["Reading"] for row in table] == ["Not trained yet."] * 4


def test_train_all_four_queues_what_is_missing_and_the_table_shows_them(models_dir):
    # A classmate trained the first row already: it is reused, not trained again.
    first = overfitting_lesson.ROWS[0].request("mnist")
    assert jobs.trainer().submit(first, owner=store.Actor("bob", "Bob")).wait(timeout=600).status == "finished"
    app = run_page("app_pages/home.py", session={"actor": ADA})
    app.button(key="home_lesson_train_all").click().run()
    assert not app.exception
    submitted = app.session_state["lesson_jobs"]
    assert len(submitted) == 3 and "Queued 3 training(s)" in " ".join(info.value for info in app.info)
    for job_id in submitted:
        assert jobs.job(job_id).wait(timeout=600).status == "finished"
    app.run()
    table = lesson_table(app)
    for row, shown in zip(overfitting_lesson.ROWS, table, strict=True):
        card = store.load_card(store.find_trained(row.request("mnist").key()))
        last = card.history[-1]
        assert (shown["Training acc."], shown["Validation acc."]) == (f"{last['accuracy']:.1%}",
                                                                      f"{last['val_accuracy']:.1%}")
        gap = 100 * (last["accuracy"] - last["val_accuracy"])
        assert shown["Gap (points)"] == f"{gap:+.1f}"
        assert (f"{abs(gap):.1f} points" in shown["Reading"]) and card.train_images == 500
    assert "shifted, rotated and zoomed" in table[1]["Reading"] and "30% of them wrong" in table[3]["Reading"]
    # Asking again trains nothing: all four exist.
    app.button(key="home_lesson_train_all").click().run()
    assert app.session_state["lesson_jobs"] == [] and "All four are trained already" in app.info[0].value


def test_the_lesson_needs_500_training_images_and_says_so_for_a_smaller_dataset(rng, data_dir):
    from mnistlib import datasets
    from tests.test_custom_datasets import three_class_arrays

    datasets.add("shapes", three_class_arrays(rng), ["circle", "square", "triangle"], title="Shapes")
    assert overfitting_lesson.images_available("shapes") == 27  # 30 less the 10% validation part
    app = run_page("app_pages/home.py", query={"dataset": "shapes"})
    assert not app.exception
    assert "The lesson trains on 500 training images; this dataset has 27 after its validation part is held back." \
           in " ".join(info.value for info in app.info)
    assert not lesson_links(app) and not [button for button in app.button if button.key == "home_lesson_train_all"]


def test_mnists_small_subset_has_enough():
    assert overfitting_lesson.images_available("mnist", "small") == 900
