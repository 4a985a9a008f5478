"""Names typed by people (students, models): cleaned to plain text, or refused with a sentence that says why."""

import re
import unicodedata

# Markdown and HTML characters that Streamlit's st.markdown would interpret; escaped so a name shows as typed.
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$&:])")


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


def markdown_escape(text: str) -> str:
    """text with Markdown/HTML characters escaped, so st.markdown shows it literally (never as markup)."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", str(text))
