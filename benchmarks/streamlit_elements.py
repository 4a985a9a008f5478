"""What the simulated student keeps of the page: its elements (kind, proto, the run and fragment that drew them)."""

from dataclasses import dataclass

from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

TEXT_FIELDS = {"markdown": "body", "heading": "body", "alert": "body", "text": "body", "code": "code_text"}


@dataclass
class Element:
    """One element of the page: its kind ("button", "markdown", …), its proto, the run and fragment that drew it."""

    kind: str
    proto: object
    run_id: str
    fragment_id: str = ""

    @property
    def label(self) -> str:
        return getattr(self.proto, "label", "")

    def text(self) -> str:
        """What a person reads in this element ("" for none)."""
        if self.kind == "metric":
            return f"{self.proto.label}\n{self.proto.body}"
        if self.kind == "exception":
            return f"{self.proto.type}: {self.proto.message}"
        return getattr(self.proto, TEXT_FIELDS.get(self.kind, ""), "") if self.kind in TEXT_FIELDS else ""


def slim(message: ForwardMsg) -> ForwardMsg:
    """message, without a component's data (megabytes of test images this client never reads: hundreds of
    simulated students in one process would hold gigabytes)."""
    if message.WhichOneof("type") != "delta" or message.delta.new_element.WhichOneof("type") != "bidi_component":
        return message
    component = message.delta.new_element.bidi_component
    if component.WhichOneof("data") in (None, "json") and len(component.json) < 100_000:
        return message
    kept = ForwardMsg()
    kept.CopyFrom(message)
    kept.delta.new_element.bidi_component.ClearField(component.WhichOneof("data"))
    return kept
