"""names.as_text: any typed value shown in Streamlit's Markdown reads as its exact characters, never as markup."""

import re

import pytest

from mnistlib import names

WJ = names.WORD_JOINER


def shown(escaped: str) -> str:
    """What Markdown displays for an escaped string: backslash escapes undone, the invisible word joiner dropped."""
    return re.sub(r"\\(.)", r"\1", escaped).replace(WJ, "")


@pytest.mark.parametrize("text", ["**x**", "[a](b)", "<b>b</b>", "_it_", "`code`", "# heading", "- item", "1. one",
                                  "~~gone~~", "$x^2$", "a|b", "&amp;", "![i](j)", "back\\slash", "===", "x :smile: y"])
def test_every_markdown_and_html_character_is_backslash_escaped(text):
    escaped = names.as_text(text)
    assert shown(escaped) == text
    # No special character is left bare: each one is preceded by a backslash.
    assert not re.search(r"(?<!\\)[*_\[\]()<>`#~$|&!=:]", escaped.replace("\\\\", ""))


@pytest.mark.parametrize("address, broken", [
    ("https://e.ex/you.html", f"https{WJ}\\:"), ("http://e.ex", f"http{WJ}\\:"), ("HTTPS://E.EX", f"HTTPS{WJ}\\:"),
    ("see www.e.ex", f"www{WJ}\\."), ("WWW.e.ex", f"WWW{WJ}\\."), ("ada@e.ex", f"ada{WJ}\\@"),
    ("mailto:ada@e.ex", f"ada{WJ}\\@")])
def test_bare_addresses_are_broken_for_the_autolinker_but_read_the_same(address, broken):
    escaped = names.as_text(address)
    assert broken in escaped and shown(escaped) == address
    # The patterns remark-gfm's autolink literal looks for (on the text after escapes are undone) are gone.
    undone = re.sub(r"\\(.)", r"\1", escaped)
    assert not re.search(r"(?i)https?://|www\.|[\w.+-]@", undone)


def test_the_hostile_title_is_only_text():
    title = "**Markup** [link](https://e.ex/x.html) <b>b</b> https://e.ex/y"
    escaped = names.as_text(title)
    assert escaped == ("\\*\\*Markup\\*\\* \\[link\\]\\(https" + WJ + "\\:" + "//e\\.ex/x\\.html\\) \\<b\\>b\\</b\\> "
                       "https" + WJ + "\\://e\\.ex/y")
    assert shown(escaped) == title


def test_markdown_escape_is_the_same_function():
    assert names.markdown_escape is names.as_text
    assert names.as_text(3) == "3"


def test_chart_text_keeps_plotly_tags_as_typed():
    import numpy as np

    from mnistlib import plots
    from mnistlib.names import as_chart_text

    hostile = ["<b>bold</b>", '<a href="https://e.ex">x</a>', "a & b"]
    assert as_chart_text(hostile[0]) == "&lt;b&gt;bold&lt;/b&gt;" and as_chart_text("plain") == "plain"
    bars = plots.probability_bar(np.array([0.2, 0.5, 0.3]), hostile)
    heatmap = plots.confusion_heatmap(np.eye(3, dtype=int), hostile)
    counts = plots.class_counts_bar([1, 2, 3], hostile)
    for shown in (list(bars.data[0].x), list(heatmap.data[0].x), list(heatmap.data[0].y), list(counts.data[0].x)):
        assert shown == [as_chart_text(name) for name in hostile]
        assert not any("<" in name for name in shown)
