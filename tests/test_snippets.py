"""Every code block the pages show runs as shown, on a real stored model and the dataset as loaded, and gives the
values it states. The convention for stated values is in docs/DESIGN.md, "Code shown to students"."""

import ast
import io
import os
import re
import subprocess
import sys
import tokenize
from pathlib import Path

import keras
import numpy as np
import pytest

from mnistlib import concepts, datasets, export, store
from tests.conftest import train_and_store
from tests.page_runs import run_page

REPO = Path(__file__).resolve().parent.parent
PAGES = sorted(str(path.relative_to(REPO)) for path in (REPO / "app_pages").glob("*.py"))


@pytest.fixture(autouse=True)
def small_subset(monkeypatch):
    monkeypatch.setenv("MNISTLIB_SUBSET", "small")


# ## Reading a block: its statements and the results they state


def stated_results(code: str) -> dict[int, str]:
    """{line number: comment text} for every comment written after code on the same line."""
    comments = {}
    for token in tokenize.generate_tokens(io.StringIO(code).readline):
        if token.type == tokenize.COMMENT and token.line[: token.start[1]].strip():
            comments[token.start[0]] = token.string.removeprefix("#").strip()
    return comments


def expected_value(text: str):
    """(kind, value, tolerance) for a stated result: kind "shape" or "literal"; tolerance mirrors the literal."""
    stated = re.split(r"\s{2,}", text, maxsplit=1)[0]
    if stated.startswith("shape "):
        return "shape", ast.literal_eval(stated.removeprefix("shape ")), None
    try:
        tree = ast.parse(stated, mode="eval")
        value = ast.literal_eval(tree)
    except (SyntaxError, ValueError) as error:
        raise AssertionError(f"# {text!r} states no Python literal (see docs/DESIGN.md)") from error
    return "literal", value, tolerances(stated, tree.body)


def tolerances(source: str, node):
    """The literal's shape with each float replaced by one unit of its last written decimal (others: 0)."""
    if isinstance(node, (ast.List, ast.Tuple)):
        return [tolerances(source, element) for element in node.elts]
    if isinstance(node, ast.UnaryOp):
        return tolerances(source, node.operand)
    if isinstance(node, ast.Constant) and isinstance(node.value, float):
        written = ast.get_source_segment(source, node)
        decimals = len(written.split(".")[1]) if "." in written and "e" not in written.lower() else 0
        return 10.0**-decimals if decimals else abs(node.value) * 1e-6
    return 0


def agrees(actual, expected, tolerance) -> bool:
    """actual equals expected: numbers within tolerance, sequences element by element."""
    if isinstance(expected, (list, tuple)):
        actual = np.asarray(actual).tolist() if isinstance(actual, np.ndarray) else list(actual)
        return len(actual) == len(expected) and all(
            agrees(a, e, t) for a, e, t in zip(actual, expected, tolerance, strict=True))
    if isinstance(expected, bool) or isinstance(expected, str):
        return actual == expected
    if isinstance(expected, int):
        return float(actual) == expected
    return abs(float(actual) - expected) <= tolerance * (1 + 1e-6)


def run_block(code: str, namespace: dict) -> int:
    """Execute a block statement by statement, checking every stated result; returns how many were checked."""
    tree = ast.parse(code)
    comments = stated_results(code)
    ends = {statement.end_lineno: statement for statement in tree.body}
    stray = sorted(set(comments) - set(ends))
    assert not stray, f"comments after code on lines {stray} are not at the end of a statement:\n{code}"
    checked = 0
    for statement in tree.body:
        text = comments.get(statement.end_lineno)
        if text is None:
            exec(compile(ast.Module([statement], []), "<shown code>", "exec"), namespace)
            continue
        if isinstance(statement, ast.Expr):
            actual = eval(compile(ast.Expression(statement.value), "<shown code>", "eval"), namespace)
        elif isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(
                statement.targets[0], ast.Name):
            exec(compile(ast.Module([statement], []), "<shown code>", "exec"), namespace)
            actual = namespace[statement.targets[0].id]
        else:
            raise AssertionError(f"line {statement.end_lineno} states a result but is not an expression or a "
                                 f"single assignment:\n{code}")
        kind, expected, tolerance = expected_value(text)
        line = ast.get_source_segment(code, statement)
        if kind == "shape":
            assert tuple(np.shape(actual)) == tuple(expected), f"{line}: shape {np.shape(actual)}, stated {text!r}"
        else:
            assert agrees(actual, expected, tolerance), f"{line}: gives {actual!r}, the page states {text!r}"
        checked += 1
    return checked


def shown_blocks(app) -> list[str]:
    """The Python code blocks on a rendered page."""
    return [element.value for element in app.code if element.proto.language == "python"]


def namespace_for(card) -> dict:
    """The names a block may use (docs/DESIGN.md): the stored model and the dataset as loaded."""
    data = datasets.load(card.dataset, subset=card.subset)
    return {"np": np, "keras": keras, "model": store.load_model(card.id), "x_train": data.x_train,
            "y_train": data.y_train, "x_test": data.x_test, "y_test": data.y_test}


# ## The convention itself (so a broken checker cannot pass every block)


def test_the_checker_catches_a_wrong_value_and_accepts_the_last_decimal():
    names = {"np": np, "values": np.array([0.1234, 0.8766], np.float32)}
    assert run_block("values.round(3).tolist()   # [0.123, 0.877]  rounded\nvalues.shape   # (2,)\n", names) == 2
    assert run_block("values   # shape (2,)\n# prose only\nint(np.argmax(values))   # 1\n", names) == 2
    with pytest.raises(AssertionError, match="the page states"):
        run_block("int(np.argmax(values))   # 0  the predicted label\n", names)
    with pytest.raises(AssertionError, match="the page states"):
        run_block("float(values[0])   # 0.125\n", names)
    with pytest.raises(AssertionError, match="states no Python literal"):
        run_block("values   # the probabilities\n", names)


# ## Every block of every page


@pytest.fixture(scope="module")
def second_model(stored_mnist_model):
    """A second MNIST model, so that pages comparing two models show everything."""
    return train_and_store("mnist", epochs=1, name="second model for the snippets")


@pytest.mark.parametrize("path", PAGES)
def test_every_code_block_runs_and_gives_the_stated_values(path, stored_mnist_model, second_model, tmp_path,
                                                           monkeypatch):
    app = run_page(path, query={"dataset": "mnist", "model": stored_mnist_model.id})
    export.export(stored_mnist_model.id, tmp_path / "project")  # the files Predict's code reads, as downloaded
    monkeypatch.chdir(tmp_path / "project")
    for code in shown_blocks(app):
        run_block(code, namespace_for(stored_mnist_model))


@pytest.mark.parametrize("path", ["app_pages/predict.py", "app_pages/mistakes.py"])
def test_the_predict_and_mistakes_code_pastes_and_runs_in_a_fresh_interpreter(path, stored_mnist_model, tmp_path):
    """Beside the unzipped "Train it yourself" files, a new Python with nothing defined runs the block as shown
    (its own imports, model and data) and gets every value it states."""
    [code] = shown_blocks(run_page(path, query={"dataset": "mnist", "model": stored_mnist_model.id}))
    assert code.startswith(concepts.SNIPPET_PRELUDE)
    folder = tmp_path / "project"
    export.export(stored_mnist_model.id, folder)
    (folder / "shown.py").write_text(code)
    runner = "from tests.test_snippets import run_block; print(run_block(open('shown.py').read(), {}))"
    environment = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-c", runner], cwd=folder, env=environment, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert int(result.stdout.split()[-1]) >= 3  # stated values checked in the fresh interpreter


@pytest.mark.parametrize("path, expected", [("app_pages/mistakes.py", 3), ("app_pages/train.py", 1)])
def test_the_pages_show_blocks_with_stated_values(path, expected, stored_mnist_model):
    blocks = shown_blocks(run_page(path, query={"dataset": "mnist", "model": stored_mnist_model.id}))
    assert blocks and sum(len(stated_results(code)) for code in blocks) >= expected


@pytest.mark.parametrize("query", [
    {"arch": "cnn", "optimizer": "sgd", "lr": "0.01", "batch": "64", "epochs": "1", "val": "0.2"},
    {"layers": "2", "units": "32", "dropout": "0.2", "optimizer": "rmsprop", "epochs": "2", "val": "0.0"},
])
def test_the_train_pages_keras_code_runs_for_other_settings(query, stored_mnist_model):
    app = run_page("app_pages/train.py", query={"dataset": "mnist", **query})
    [code] = shown_blocks(app)
    namespace = namespace_for(stored_mnist_model)
    assert run_block(code, namespace) == 1  # model.count_params() as the page's "Total parameters"
    history = namespace["model"].history.history
    assert len(history["loss"]) == int(query["epochs"]) and ("val_loss" in history) == (query["val"] != "0.0")
