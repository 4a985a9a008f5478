"""The load generator's simulated student really drives the app: over Streamlit's websocket, with no browser.

The app runs as `streamlit run app.py` on a free port (the browser tests' server, small subset, empty store); each
test is one or two students acting as a person would, and checks what the page then shows.
"""

import asyncio
import concurrent.futures
import json
import os
import time

import pytest

from benchmarks.streamlit_client import StreamlitClient
from tests.browser.conftest import REPO, start_app, stop_app


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """The app's base URL, on the small subset with an empty model store."""
    models = tmp_path_factory.mktemp("client-models")
    environment = {**os.environ, "MNISTLIB_SUBSET": "small", "MNISTLIB_MODELS_DIR": str(models),
                   "TF_CPP_MIN_LOG_LEVEL": "2"}
    output = REPO / "tests" / "output"
    output.mkdir(exist_ok=True)
    server, url = start_app("app.py", environment, output / "client-server.log")
    yield url
    stop_app(server)


def unique(name: str) -> str:
    """A name no earlier run of these tests registered (the class's names live as long as the store)."""
    return f"{name} {time.monotonic_ns() % 10**9}"


def run(coroutine):
    """Run the coroutine in a thread of its own: in a pytest process that also ran Playwright's sync API (the
    browser tests share a process), this thread already has a running event loop, and asyncio.run refuses it."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def test_a_student_gives_a_name_and_the_sidebar_shows_it(app_url):
    async def lesson():
        student = StreamlitClient(app_url)
        await student.connect()
        try:
            assert student.page_title() == "Home"
            assert student.has_text("MNIST Lab")
            assert not student.has_text("**You:**")
            name = unique("Ada")
            await student.click("Save my name", {"Your name": name})
            assert f"**You:** {name}" in student.texts()
            assert student.widgets("Your name") == []  # the name box is gone once the name is accepted
            assert not student.widget("Quick start…").proto.disabled  # training needs a name: now allowed
        finally:
            await student.close()

    run(lesson())


def test_a_name_another_session_has_is_refused_in_the_page(app_url):
    async def lesson():
        first, second = StreamlitClient(app_url), StreamlitClient(app_url)
        await first.connect()
        await second.connect()
        try:
            name = unique("Grace")
            await first.click("Save my name", {"Your name": name})
            await second.click("Save my name", {"Your name": name})
            assert any("already uses the name" in text for text in second.texts())
            assert not second.has_text("**You:**")
            assert second.widget("Your name").kind == "text_input"  # still asked for a name
        finally:
            await first.close()
            await second.close()

    run(lesson())


def test_a_student_opens_a_page_by_name_and_sets_its_widget(app_url):
    async def lesson():
        student = StreamlitClient(app_url)
        await student.connect()
        try:
            await student.open_page("Dataset")
            assert student.page_title() == "Dataset"
            assert student.has_text("One image, as the computer sees it")
            assert student.widget("Training image index").kind == "number_input"
            await student.set_value("Training image index", 5)
            titles = [json.loads(element.proto.spec)["layout"]["title"]["text"]
                      for element in student.elements.values() if element.kind == "plotly_chart"]
            assert any(title.startswith("x_train[5]: ") for title in titles), titles
            assert not any(title.startswith("x_train[0]") for title in titles)  # the old figure was replaced
        finally:
            await student.close()

    run(lesson())


def test_a_quick_start_is_watched_live_until_the_test_accuracy_shows(app_url):
    """The Train page's live view reruns on its fragment timer: only a client that reruns it sees the end."""
    async def lesson():
        student = StreamlitClient(app_url, timeout=300)
        await student.connect()
        try:
            await student.click("Save my name", {"Your name": unique("Alan")})
            await student.click("Quick start…")
            assert student.page_title() == "Train"  # the quick start opens the Train page
            await student.wait_until(lambda: student.metric("Test accuracy") is not None, "the test accuracy shown")
            accuracy = student.metric("Test accuracy")
            assert accuracy.endswith("%") and 0 <= float(accuracy.rstrip("%")) <= 100
            await student.open_page("Predict")
            assert student.components("mnist_lab.image_browser")  # the in-page browser of the model just trained
        finally:
            await student.close()

    run(lesson())
