"""One Train page setting: its widget key, its choices, and how a link writes and reads its value."""

from dataclasses import dataclass

FRACTIONS = [round(0.05 * step, 2) for step in range(19)]  # 0.0 … 0.9, the sliders' steps
FLAGS = {"1": True, "0": False}  # a checkbox's value in a link


@dataclass(frozen=True)
class Setting:
    """One Train page setting: its widget key, type, the control's choices, its label and its name in a sentence."""

    key: str
    kind: type
    allowed: object  # a sequence or range: only values the control itself can take
    title: str
    phrase: str

    def parse(self, text: str):
        """The value a link's text asks for; ValueError when the control cannot take it."""
        if self.kind is bool:  # a checkbox: 1 or 0 in a link
            if text.strip() not in FLAGS:
                raise ValueError(f"{text!r} is not 1 or 0")
            return FLAGS[text.strip()]
        value = self.kind(text.strip())
        if self.kind is float:
            value = tidy(value)
        if value not in self.allowed:
            raise ValueError(f"{text!r} is not one of the control's choices")
        return value

    def text(self, value) -> str:
        """The value as written in a link (a slider's 0.15000000000000002 as 0.15, a checkbox as 1 or 0)."""
        if self.kind is bool:
            return "1" if value else "0"
        return f"{value:g}" if self.kind is float else str(value)


def tidy(value: float) -> float:
    """A slider's float on its decimal step (0.15000000000000002 → 0.15)."""
    return float(f"{float(value):g}")
