"""A challenge in real Chromium: the teacher sets one on the board, two students train (one meets it, one is over
the parameter limit), both see their verdicts, the board ranks them, the results CSV has the right rows with test
accuracy only after the reveal, and Home shows the join address with a QR code that holds it."""

import csv
import io
import os
from pathlib import Path

import numpy as np
import pytest
import segno
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import REPO, click_train, settle, start_app, stop_app
from tests.browser.test_class import PASSWORD, Person


@pytest.fixture(scope="module")
def challenge_server(tmp_path_factory):
    """The base URL of an app with a teacher password, the small subset and an empty store."""
    models = tmp_path_factory.mktemp("challenge-models")
    environment = {**os.environ, "MNISTLIB_SUBSET": "small", "MNISTLIB_MODELS_DIR": str(models),
                   "MNISTLIB_TEACHER_PASSWORD": PASSWORD}
    output = REPO / "tests" / "output"
    output.mkdir(exist_ok=True)
    server, url = start_app("app.py", environment, output / "challenge-server.log")
    yield url
    stop_app(server)


def sign_in_teacher(teacher: Person) -> None:
    teacher.open()
    teacher.sidebar().get_by_text("Teacher", exact=True).click()
    teacher.tab.get_by_label("Teacher password").fill(PASSWORD)
    teacher.tab.get_by_role("button", name="Sign in").click()
    expect(teacher.sidebar()).to_contain_text("Teacher — signed in")
    teacher.wait_for_cookie("mnistlab_teacher")


def train_with(person: Person, query: str) -> None:
    """Train with the settings of a lesson link (e.g. units=256&epochs=1&seed=1) until the model is saved."""
    person.open(f"Train?dataset=mnist&{query}")
    click_train(person.tab)
    person.tab.wait_for_selector("text=Saved: the other pages now list it.", timeout=180_000)
    settle(person.tab)


def results_csv(teacher: Person) -> list[dict]:
    if not teacher.tab.get_by_role("button", name="Download results (CSV)").is_visible():
        teacher.tab.get_by_text("Challenges and results").click()
    with teacher.tab.expect_download() as download:
        teacher.tab.get_by_role("button", name="Download results (CSV)").click()
    return list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))


def verdicts(person: Person) -> str:
    """The text of the board's "Every model against the challenge" table, opened."""
    person.open("Board?dataset=mnist")
    person.tab.get_by_text("Every model against the challenge").click()
    table = person.tab.locator('[data-testid="stDataFrame"]').filter(has_text="Verdict")
    return cells(table, 2)


def cells(table, count: int) -> str:
    """The text of a Streamlit table's cells (drawn on a canvas; its accessible table holds the text)."""
    expect(table.locator("tbody tr")).to_have_count(count)
    return " | ".join(cell.inner_text() for cell in table.locator("tbody td").all())


def headers(table) -> str:
    return " | ".join(header.inner_text() for header in table.locator("thead th").all())


def qr_text_matches(png: bytes, text: str) -> bool:
    """Whether the PNG shows exactly the QR symbol of text (its modules sampled at their centres)."""
    symbol = segno.make(text, error="m")
    size = symbol.symbol_size(scale=1, border=0)[0]
    image = np.asarray(Image.open(io.BytesIO(png)).convert("L"))
    scale = image.shape[0] // (size + 8)
    centres = (np.arange(size) + 4) * scale + scale // 2
    dark = image[np.ix_(centres, centres)] < 128
    return image.shape[0] == image.shape[1] and np.array_equal(dark, np.array(symbol.matrix, dtype=bool))


def test_a_challenge_judged_ranked_revealed_and_the_join_code(browser, challenge_server):
    url = challenge_server
    ada, bob, teacher = Person(browser, url), Person(browser, url), Person(browser, url)
    try:
        sign_in_teacher(teacher)
        teacher.open("Board?dataset=mnist")
        teacher.tab.get_by_text("Challenges and results").click()
        teacher.tab.get_by_label("Title").fill("Beat 10% under 150,000 parameters")
        teacher.tab.get_by_label("Target validation accuracy (%)").fill("10")
        teacher.tab.get_by_label("At most … parameters").fill("150000")
        teacher.tab.get_by_role("button", name="Set the challenge").click()
        expect(teacher.tab.get_by_text("Challenge set: Beat 10% under 150,000 parameters")).to_be_visible()

        for person, name in ((ada, "Ada"), (bob, "Bob")):
            person.open()
            person.give_name(name)
        ada.open("Train?dataset=mnist&epochs=1")
        expect(ada.tab.get_by_text("These settings are within the challenge's limits")).to_be_visible()
        train_with(ada, "epochs=1&seed=0")  # the tutorial's network: 101,770 parameters
        bob.open("Train?dataset=mnist&units=256&epochs=1")
        expect(bob.tab.get_by_text("These settings break the challenge's limits")).to_be_visible()
        train_with(bob, "units=256&epochs=1&seed=1")  # 203,530 parameters: over the limit

        for person in (ada, bob):
            shown = verdicts(person)
            assert "met" in shown and "over a limit" in shown and "203,530 parameters" in shown
        ranking = ada.tab.locator('[data-testid="stDataFrame"]').filter(has_text="Place")
        assert "Ada" in cells(ranking, 1) and "Test accuracy" not in headers(ranking)  # only Ada's meets it

        teacher.open("Board?dataset=mnist")
        rows = {row["student"]: row for row in results_csv(teacher)}
        assert rows["Ada"]["met_challenge"] == "yes" and rows["Bob"]["met_challenge"] == "no"
        assert "over a limit" in rows["Bob"]["why_not"] and "203,530" in rows["Bob"]["why_not"]
        assert rows["Ada"]["test_accuracy"] == "" and rows["Bob"]["test_accuracy"] == ""
        teacher.tab.get_by_text("Show test accuracy to the class").click()
        settle(teacher.tab)
        rows = {row["student"]: row for row in results_csv(teacher)}
        assert 0 < float(rows["Ada"]["test_accuracy"]) <= 1 and 0 < float(rows["Bob"]["test_accuracy"]) <= 1
        ranking = ada.tab.locator('[data-testid="stDataFrame"]').filter(has_text="Place")
        expect(ranking.locator("thead th", has_text="Test accuracy")).to_have_count(1, timeout=30_000)

        teacher.open()
        expect(teacher.tab.get_by_role("heading", name="Join this class")).to_be_visible()
        address = teacher.tab.locator('[data-testid="stCode"]').first.inner_text().strip()
        assert address.startswith("http://") and address.endswith(":" + url.rsplit(":", 1)[1])
        image = teacher.tab.get_by_role("img", name=f"QR code of {address}")
        expect(image).to_be_visible()
        png = teacher.tab.request.get(image.get_attribute("src") if image.get_attribute("src").startswith("http")
                                      else url + image.get_attribute("src")).body()
        assert qr_text_matches(png, address)
        teacher.tab.get_by_role("heading", name="Join this class").scroll_into_view_if_needed()
        teacher.screenshot("join_this_class")
    except BaseException:
        for person, name in ((ada, "ada"), (bob, "bob"), (teacher, "teacher")):
            person.tab.screenshot(path=str(REPO / "tests" / "output" / f"challenge_failed_{name}.png"))
        raise
    finally:
        for person in (ada, bob, teacher):
            person.close()
