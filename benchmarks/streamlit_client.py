"""A simulated student: one Streamlit session driven over Streamlit's own websocket protocol, without a browser.

It speaks what the browser speaks on ws://host:port/_stcore/stream: it sends `rerun_script` BackMsgs (the query
string, the page, the widget states) and reads the ForwardMsgs back (new_session at the start of every run,
deltas that place elements at their path, script_finished at the end). From the deltas it keeps the page's
element tree, so widgets are found by the label a person reads ("Your name", "Save my name", "Next ▶") and
texts are read as a person reads them. Like the browser it reruns `st.fragment(run_every=…)` fragments on
their timer (ForwardMsg.auto_rerun), so a watching student costs the server what a watching tab costs.

Protocol facts used here (Streamlit 1.67, streamlit/web/server/starlette/starlette_websocket.py,
streamlit/runtime/app_session.py): the first Sec-WebSocket-Protocol entry is "streamlit" (the second, an XSRF
token, only matters for the auth cookie, which a student without school login does not have); every run,
fragment runs included, starts with a new_session whose metadata.run names the run and its fragments; a
widget's value that is not sent keeps its previous value on the server, so only changed widgets are sent; a
widget inside a fragment is sent with that fragment's id (the rerun is the fragment's only, as in the browser).
"""

import asyncio
import json
import time
from dataclasses import dataclass, field

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

from benchmarks.streamlit_elements import Element, slim

DONE = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
        ForwardMsg.FINISHED_WITH_COMPILE_ERROR}
class ScriptError(RuntimeError):
    """The page showed an exception, or the server ended the session."""


@dataclass
class StreamlitClient:
    """One browser tab's Streamlit session. `await client.connect()`, then open pages, click, read texts."""

    url: str  # http://host:port
    timeout: float = 120.0  # the longest one run may take (a loaded server is slow, not broken)
    elements: dict = field(default_factory=dict)  # delta path (tuple) → Element
    pages: dict = field(default_factory=dict)  # page title → page_script_hash, from the navigation message
    page_hash: str = ""
    query_string: str = ""
    exceptions: list = field(default_factory=list)
    _socket: object = None
    _reader: asyncio.Task = None
    _timers: dict = field(default_factory=dict)  # fragment id → its auto-rerun task
    _started: int = 0  # how many runs have started (new_session messages)
    _runs: dict = field(default_factory=dict)  # script_run_id → (start number, fragment ids)
    _finished: list = field(default_factory=list)  # (start number, status, fragment ids) of the last runs
    _cache: dict = field(default_factory=dict)  # hash → large element message, as the browser caches them
    _drawing: str = ""  # the run whose deltas are arriving
    _busy: bool = False  # an interaction is waiting for its run: no auto-rerun is sent meanwhile
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def __repr__(self) -> str:
        return f"StreamlitClient({self.url!r}, page={self.page_title()!r}, {len(self.elements)} elements)"

    # ## Connecting and the first run

    async def connect(self, path: str = "", query_string: str = "") -> None:
        """Open the session on the page at path ("" the default page, "Predict", …) and wait for its first run."""
        address = self.url.replace("http", "ws", 1).rstrip("/") + "/_stcore/stream"
        self._socket = await websockets.connect(address, subprotocols=["streamlit"], max_size=None,
                                                open_timeout=self.timeout, ping_interval=None)
        self._reader = asyncio.create_task(self._read())
        self.query_string = query_string
        await self.rerun(page_name=path)

    async def close(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)

    # ## Finding what a person sees

    def widgets(self, label: str, kind: str | None = None) -> list[Element]:
        """Elements whose label is label (or starts with it when label ends with "…"), optionally of one kind."""
        prefix = label.endswith("…")
        return [element for _, element in sorted(self.elements.items())
                if (element.label.startswith(label[:-1]) if prefix else element.label == label)
                and (kind is None or element.kind == kind)]

    def widget(self, label: str, kind: str | None = None) -> Element:
        found = self.widgets(label, kind)
        if not found:
            raise LookupError(f"no widget labelled {label!r} on {self.page_title()!r}; labels: {self.labels()}")
        return found[0]

    def labels(self) -> list[str]:
        return [element.label for _, element in sorted(self.elements.items()) if element.label]

    def texts(self) -> list[str]:
        """Every text on the page, in page order (main area first, then the sidebar)."""
        return [text for _, element in sorted(self.elements.items()) if (text := element.text())]

    def has_text(self, text: str) -> bool:
        return any(text in shown for shown in self.texts())

    def components(self, name: str) -> list[Element]:
        """The page's components v2 elements named name (e.g. the Predict page's in-page image browser)."""
        return [element for element in self.elements.values()
                if element.kind == "bidi_component" and element.proto.component_name == name]

    def page_title(self) -> str:
        return next((title for title, page_hash in self.pages.items() if page_hash == self.page_hash), "")

    # ## Acting as a person does

    async def open_page(self, title: str) -> None:
        """Click the page's link in the sidebar's navigation and wait until it has run."""
        if title not in self.pages:
            raise LookupError(f"no page titled {title!r}; pages: {list(self.pages)}")
        await self.rerun(page_hash=self.pages[title])

    async def click(self, label: str, values: dict | None = None) -> None:
        """Click the button labelled label (with a form's typed values, {label: value}) and wait for the run."""
        button = self.widget(label)
        if button.kind not in ("button", "download_button") or button.proto.disabled:
            raise LookupError(f"{label!r} is not an enabled button ({button.kind})")
        states = [self._state(self.widget(name), value) for name, value in (values or {}).items()]
        states.append(WidgetState(id=button.proto.id, trigger_value=True))
        await self.rerun(states, fragment_id=button.fragment_id)

    async def set_value(self, label: str, value) -> None:
        """Set a widget (number, text, checkbox, …) to value, as typing or ticking it does, and wait for the run."""
        widget = self.widget(label)
        await self.rerun([self._state(widget, value)], fragment_id=widget.fragment_id)

    async def set_component_state(self, component: Element, state: dict) -> None:
        """Report a components v2 element's state (what its JavaScript's setStateValue sends) and wait."""
        widget = WidgetState(id=component.proto.id, json_value=json.dumps(state))
        await self.rerun([widget], fragment_id=component.fragment_id)

    def metric(self, label: str) -> str | None:
        """The value shown by the metric labelled label, or None when no such metric is shown."""
        return next((element.proto.body for element in self.widgets(label, "metric")), None)

    async def wait_for_text(self, text: str, timeout: float | None = None) -> None:
        """Wait until text is shown (the page's fragments rerun on their own meanwhile, as in a browser)."""
        await self.wait_until(lambda: self.has_text(text), f"{text!r} shown", timeout)

    async def wait_until(self, shown, what: str, timeout: float | None = None) -> None:
        """Wait until shown() is true after a message from the server; TimeoutError after timeout seconds."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while not shown():
            self._raise_on_exception()
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._reader.done():
                raise TimeoutError(f"not {what} on {self.page_title()!r} within the time allowed")
            self._changed.clear()
            feeds = [element for element in self.elements.values() if element.kind == "bidi_component"
                     and "live_training" in element.proto.component_name]
            try:
                await asyncio.wait_for(self._changed.wait(), timeout=min(remaining, 1.0 if feeds else 5))
            except TimeoutError:
                for feed in feeds:  # what the feed's JavaScript asks for where the progress route refuses the tab
                    await self._poll(feed)

    async def _poll(self, feed: Element) -> None:
        """Look again, as a person reloading would: a browser's live feed polls the job's progress route with the
        student's cookie and reruns once when the job ends; this client runs no JavaScript and sends no cookies, so
        while a feed is shown it reruns the page every second (costlier for the server than a browser)."""
        await self.rerun()

    @staticmethod
    def _state(widget: Element, value) -> WidgetState:
        """The WidgetState the browser sends for this widget's value."""
        state = WidgetState(id=widget.proto.id)
        if widget.kind in ("text_input", "text_area"):
            state.string_value = str(value)
        elif widget.kind == "number_input":
            if widget.proto.data_type == widget.proto.INT:
                state.int_value = int(value)
            else:
                state.double_value = float(value)
        elif widget.kind == "checkbox":
            state.bool_value = bool(value)
        else:
            raise ValueError(f"The load generator sets text inputs, number inputs and checkboxes, not a {widget.kind}; "
                             "drive this widget another way (a button, or the page's URL).")
        return state

    # ## One run: send, then wait for the run it started to finish

    async def rerun(self, widget_states=(), page_hash: str | None = None, page_name: str = "",
                    fragment_id: str = "", auto: bool = False) -> None:
        """Send one rerun_script and wait until the run it asked for (and any st.rerun it made) has finished."""
        message = BackMsg()
        state = message.rerun_script
        state.query_string = self.query_string
        state.page_script_hash = self.page_hash if page_hash is None else page_hash
        state.page_name = page_name
        state.widget_states.widgets.extend(widget_states)
        state.cached_message_hashes.extend(self._cache)
        state.fragment_id = fragment_id
        state.is_auto_rerun = auto
        state.context_info.timezone, state.context_info.locale = "UTC", "en-US"
        state.context_info.url = f"{self.url.rstrip('/')}/{page_name}"
        if auto:
            await self._socket.send(message.SerializeToString())
            return
        self._busy, mark = True, self._started
        try:
            await self._socket.send(message.SerializeToString())
            deadline = time.monotonic() + self.timeout
            while not any(start > mark and status in DONE and (fragment_id in fragments if fragment_id else not fragments)
                          for start, status, fragments in self._finished):
                if self._reader.done():
                    raise ScriptError(f"the server closed the session: {self._reader.exception()!r}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"the run did not finish within {self.timeout:.0f} s")
                self._changed.clear()
                try:
                    await asyncio.wait_for(self._changed.wait(), timeout=remaining)
                except TimeoutError:
                    continue
        finally:
            self._busy = False
        self._raise_on_exception()

    def _raise_on_exception(self) -> None:
        shown = [element.text() for element in self.elements.values() if element.kind == "exception"]
        if shown:
            raise ScriptError(f"an exception reached the page: {shown[0]}")

    # ## Reading the server's messages

    async def _read(self) -> None:
        async for data in self._socket:
            message = ForwardMsg()
            message.ParseFromString(data)
            self._handle(message)
            self._changed.set()

    def _handle(self, message: ForwardMsg) -> None:
        if message.WhichOneof("type") == "ref_hash":  # an element this client already has: the browser's cache
            cached = ForwardMsg()
            cached.CopyFrom(self._cache[message.ref_hash])
            cached.metadata.CopyFrom(message.metadata)
            message = cached
        elif message.metadata.cacheable:
            self._cache[message.hash] = slim(message)
        kind = message.WhichOneof("type")
        run = message.metadata.run
        if kind == "new_session":
            self._started += 1
            if not run.fragment_ids:  # a full run replaces any run in progress (whose end is not reported)
                self._runs.clear()
            self._runs[run.script_run_id] = (self._started, set(run.fragment_ids))
            self._drawing = run.script_run_id  # the deltas that follow carry no run id: they belong to this run
            self.page_hash = message.new_session.page_script_hash or self.page_hash
            if not run.fragment_ids:  # a full run sets the fragments' timers again
                for timer in self._timers.values():
                    timer.cancel()
                self._timers.clear()
        elif kind == "navigation":
            self.pages = {page.page_name: page.page_script_hash for page in message.navigation.app_pages}
            self.page_hash = message.navigation.page_script_hash or self.page_hash
        elif kind == "page_info_changed":
            self.query_string = message.page_info_changed.query_string
        elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
            element = slim(message).delta.new_element
            element_kind = element.WhichOneof("type")
            self.elements[tuple(message.metadata.delta_path)] = Element(
                element_kind, getattr(element, element_kind), self._drawing, message.delta.fragment_id)
        elif kind == "delta" and message.delta.WhichOneof("type") == "add_block":
            self.elements[tuple(message.metadata.delta_path)] = Element(
                "block", message.delta.add_block, self._drawing, message.delta.fragment_id)
        elif kind == "script_finished":
            start, fragments = self._runs.pop(run.script_run_id, (self._started, set()))
            if message.script_finished in (ForwardMsg.FINISHED_SUCCESSFULLY,
                                           ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY):
                self._drop_stale(run.script_run_id, fragments)
            self._finished = [*self._finished[-20:], (start, message.script_finished, fragments)]
        elif kind == "auto_rerun":
            fragment = message.auto_rerun.fragment_id
            if fragment not in self._timers:
                self._timers[fragment] = asyncio.create_task(self._auto_rerun(fragment, message.auto_rerun.interval))
        elif kind == "stop_auto_rerun":
            for timer in self._timers.values():
                timer.cancel()
            self._timers.clear()

    def _drop_stale(self, run_id: str, fragments: set) -> None:
        """What the browser removes after a run: elements the run did not draw (a fragment's run: in it only)."""
        self.elements = {path: element for path, element in self.elements.items()
                         if element.run_id == run_id or (fragments and element.fragment_id not in fragments)}

    async def _auto_rerun(self, fragment_id: str, interval: float) -> None:
        """The browser's timer for st.fragment(run_every=interval): rerun the fragment unless a run is waited for."""
        while True:
            await asyncio.sleep(interval)
            if not self._busy and not self._runs:
                await self.rerun(fragment_id=fragment_id, auto=True)
