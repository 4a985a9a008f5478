"""A class in real Chromium: two students in two browsers give their names, train, see their own models first on
the class board and cannot delete each other's; the teacher signs in, reveals test accuracy and deletes a model."""

import json
import os
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import REPO, SCREENSHOTS, click_train, settle, start_app, stop_app

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def class_server(tmp_path_factory):
    """(base URL, models folder) of an app with a teacher password, the small subset and an empty store."""
    models = tmp_path_factory.mktemp("class-models")
    environment = {**os.environ, "MNISTLIB_SUBSET": "small", "MNISTLIB_MODELS_DIR": str(models),
                   "MNISTLIB_TEACHER_PASSWORD": PASSWORD}
    output = REPO / "tests" / "output"
    output.mkdir(exist_ok=True)
    server, url = start_app("app.py", environment, output / "class-server.log")
    yield url, models
    stop_app(server)


def model_folders(models_folder: Path) -> list[Path]:
    return [path for path in models_folder.iterdir() if re.fullmatch(r"[0-9]{8}-[0-9]{6}-[0-9a-f]{6}", path.name)]


class Person:
    """One browser (its own cookies) with one tab on the app."""

    def __init__(self, browser, url: str):
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        self.tab = self.context.new_page()
        self.url = url

    def open(self, path: str = "") -> None:
        self.tab.goto(f"{self.url}/{path}")
        self.tab.wait_for_selector("h1", timeout=60_000)
        settle(self.tab)

    def give_name(self, name: str) -> None:
        self.tab.get_by_role("textbox", name="Your name").fill(name)
        self.tab.get_by_role("button", name="Save my name").click()
        expect(self.sidebar()).to_contain_text(f"You: {name}", timeout=30_000)
        self.wait_for_cookie("mnistlab_student")

    def wait_for_cookie(self, name: str) -> None:
        """Wait until the browser keeps the cookie (written by the page just after it shows who you are)."""
        deadline = time.monotonic() + 30
        while not any(cookie["name"] == name for cookie in self.context.cookies()):
            assert time.monotonic() < deadline, f"the browser did not keep the {name} cookie"
            self.tab.wait_for_timeout(100)
        settle(self.tab)

    def sidebar(self):
        return self.tab.locator('[data-testid="stSidebar"]')

    def train(self, seed: int) -> None:
        """Train the default Dense network for 1 epoch with this seed, on the Train page, until it is saved."""
        self.open("Train")
        for label, value in (("Epochs", "1"), ("Seed", str(seed))):
            box = self.tab.get_by_role("spinbutton", name=label)
            box.fill(value)
            box.press("Enter")
            settle(self.tab)
        click_train(self.tab)
        self.tab.wait_for_selector("text=Saved: the other pages now list it.", timeout=180_000)
        settle(self.tab)

    def board(self):
        return self.tab.locator('[data-testid="stDataFrame"]').filter(has_text="Trained by")

    def rows(self, count: int) -> list[list[str]]:
        """The board's rows as shown (the text of each visible cell), once it shows count rows."""
        expect(self.board().locator("tbody tr")).to_have_count(count, timeout=30_000)
        return [[cell.inner_text() for cell in row.locator("td").all()]
                for row in self.board().locator("tbody tr").all()]

    def headers(self) -> list[str]:
        return [header.inner_text() for header in self.board().locator("thead th").all()]

    def select_row(self, index: int) -> None:
        """Tick the selection box at the left of a row (the table is drawn on a canvas: click where it is)."""
        self.board().scroll_into_view_if_needed()
        box = self.board().locator('[data-testid="stDataFrameResizable"]').bounding_box()
        row_height = 35  # Streamlit's default, the header's too
        self.tab.mouse.click(box["x"] + 16, box["y"] + row_height * (index + 1) + row_height / 2)
        expect(self.board().locator("tbody tr").nth(index)).to_have_attribute("aria-selected", "true")
        settle(self.tab)

    def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.tab.screenshot(path=str(SCREENSHOTS / f"{name}.png"))

    def close(self) -> None:
        assert self.tab.locator('[data-testid="stException"]').count() == 0, "an exception reached the page"
        self.context.close()


def test_a_class_two_students_and_the_teacher(browser, class_server):
    url, models_folder = class_server
    ada, bob, teacher = Person(browser, url), Person(browser, url), Person(browser, url)
    try:
        for person, name in ((ada, "Ada"), (bob, "Bob")):
            person.open()
            person.give_name(name)
        ada.train(seed=0)
        ada.open("Board")
        [row] = ada.rows(1)
        assert row[0] == "Ada" and row[2] == "true"  # trained by her, and in her list
        ada.open()  # the name is remembered across reloads (a cookie)
        expect(ada.sidebar()).to_contain_text("You: Ada")
        ada.open("Board")

        bob.train(seed=1)
        # Ada's board, left open, shows Bob's new model without a reload; each student sees their own first.
        rows = ada.rows(2)
        assert [row[0] for row in rows] == ["Ada", "Bob"] and [row[2] for row in rows] == ["true", "false"]
        bob.open("Board")
        assert [row[0] for row in bob.rows(2)] == ["Bob", "Ada"]
        assert "Test accuracy" not in bob.headers()

        # Bob cannot delete Ada's model: the board says whose it is and offers no delete.
        bob.select_row(1)
        expect(bob.tab.get_by_text("Not in your list (it belongs to Ada)")).to_be_visible()
        expect(bob.tab.get_by_role("button", name=re.compile("Delete|Remove"))).to_have_count(0)
        bob.screenshot("class_board_not_yours")
        bob.select_row(0)
        expect(bob.tab.get_by_role("button", name=re.compile("Delete"))).to_have_count(1)

        # Downloads: the .keras file and the card of a model, the card without the hidden test results.
        ada.select_row(0)
        model_id = next(path.name for path in model_folders(models_folder)
                        if json.loads((path / "owners.json").read_text())[0]["key"] == "ada")
        with ada.tab.expect_download() as download:
            ada.tab.get_by_role("button", name="Card (.json)").click()
        card = json.loads(Path(download.value.path()).read_text())
        assert card["id"] == model_id and "test_accuracy" not in card and card["trained_by"] == "Ada"
        with ada.tab.expect_download() as download:
            ada.tab.get_by_role("button", name="Model (.keras)").click()
        assert Path(download.value.path()).read_bytes() == (models_folder / model_id / "model.keras").read_bytes()
        ada.screenshot("class_board_student")

        # The teacher signs in, reveals test accuracy (Ada's open board shows it too) and deletes Bob's model.
        teacher.open()
        teacher.sidebar().get_by_text("Teacher", exact=True).click()
        teacher.tab.get_by_label("Teacher password").fill(PASSWORD)
        teacher.tab.get_by_role("button", name="Sign in").click()
        expect(teacher.sidebar()).to_contain_text("Teacher — signed in", timeout=30_000)
        teacher.wait_for_cookie("mnistlab_teacher")
        teacher.open("Board")
        teacher.tab.get_by_text("Show test accuracy to the class").click()
        settle(teacher.tab)
        expect(teacher.board().locator("thead th", has_text="Test accuracy")).to_have_count(1)
        expect(ada.board().locator("thead th", has_text="Test accuracy")).to_have_count(1, timeout=30_000)
        rows = teacher.rows(2)
        bobs_row = next(index for index, row in enumerate(rows) if row[0] == "Bob")
        teacher.select_row(bobs_row)
        teacher.tab.get_by_role("button", name="Delete for the whole class").click()
        teacher.tab.get_by_role("button", name="Yes: delete for the whole class").click()
        expect(teacher.tab.get_by_text("Deleted for the whole class.")).to_be_visible(timeout=30_000)
        assert [row[0] for row in teacher.rows(1)] == ["Ada"]
        assert [path.name for path in model_folders(models_folder)] == [model_id]
        teacher.screenshot("class_board_teacher")
    except BaseException:
        for person, name in ((ada, "ada"), (bob, "bob"), (teacher, "teacher")):
            person.tab.screenshot(path=str(REPO / "tests" / "output" / f"class_failed_{name}.png"))
        raise
    finally:
        for person in (ada, bob, teacher):
            person.close()
