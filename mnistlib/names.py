"""Names typed by people (students, models): cleaned to plain text, or refused with a sentence that says why."""

import html
import re
import unicodedata

# Markdown and HTML characters that Streamlit's st.markdown would interpret; escaped so a name shows as typed.
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$&:@=])")
# Streamlit's Markdown (remark-gfm) links bare "http://", "https://", "www." and e-mail addresses, and it does so
# on the text *after* backslash escapes are undone (measured in Chromium: "https\://e\.ex" is still a link). An
# invisible WORD JOINER (U+2060) inside "http:", "www." and before "@" breaks those patterns; what is shown is the
# same characters. (names.clean drops such format characters, so a copied name typed back is the same name.)
_AUTOLINK_STARTS = re.compile(r"(?i)(?<=https)(?=:)|(?<=http)(?=:)|(?<=www)(?=\.)|(?=@)")
WORD_JOINER = "\u2060"


def clean(text, max_length: int, what: str = "A name") -> str:
    """text as plain, visible characters: NFC, no control or invisible format characters (right-to-left marks,
    zero-width spaces), runs of spaces made one; ValueError if nothing is left or it is longer than max_length."""
    if not isinstance(text, str):
        raise ValueError(f"{what} must be text.")
    if len(text) > 20 * max_length:  # refuse very long input before doing any work on it
        raise ValueError(f"{what} can be at most {max_length} characters long.")
    text = unicodedata.normalize("NFC", text)
    # Categories Cc (controls), Cf (format: bidi marks, zero-width joiners), Cs, Co, Cn are not shown as text.
    kept = "".join(" " if character.isspace() else character for character in text
                   if character.isspace() or unicodedata.category(character)[0] != "C")
    kept = " ".join(kept.split())
    if not kept:
        raise ValueError(f"{what} cannot be empty: type at least one letter or digit.")
    if len(kept) > max_length:
        raise ValueError(f"{what} can be at most {max_length} characters long (this one has {len(kept)}).")
    return kept


def key(text: str) -> str:
    """The identity of a cleaned name: case- and width-insensitive, so "Ada" and "ADA" are the same person."""
    return unicodedata.normalize("NFKC", text).casefold()


def as_chart_text(text) -> str:
    """A user value as Plotly text: its tags (<b>, <a href>, which Plotly draws) shown as typed, never as markup."""
    return html.escape(str(text), quote=False)


def as_text(text) -> str:
    """text for any Streamlit Markdown (st.markdown, captions, alerts, headings, widget labels) that shows exactly
    its characters: Markdown/HTML characters backslash-escaped, and bare web or e-mail addresses kept from
    becoming links."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", _AUTOLINK_STARTS.sub(WORD_JOINER, str(text)))


# The earlier name, kept so every call site goes through the same function.
markdown_escape = as_text
