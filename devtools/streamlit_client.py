"""A session of a Streamlit app without a browser: it speaks the protocol a browser tab speaks, so that a
load test measures the server alone (thirty browsers on two cores measure mostly the browsers).

What a tab does and this client copies: protobuf `BackMsg`/`ForwardMsg` frames on `/_stcore/stream`;
a rerun (of the fragment that drew the widget, if one did) carries the page's query string (kept up
to date from `page_info_changed`) and the widget values this client has set, with a button's click as
a one-off trigger; a fragment with `run_every` is rerun at its interval (`auto_rerun`) until
`stop_auto_rerun`, or a full run that did not ask again, drops it; elements are kept by their delta
path, and a full run's end drops those it did not touch; an upload asks the server for URLs, PUTs
the file with the XSRF token, then sets the uploader's value. A bidirectional component's event goes
to its trigger widget, as JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
import urllib.request
import uuid
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.Element_pb2 import Element
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import ClientConnection, connect

XSRF_COOKIE = "_streamlit_xsrf"
# The id Streamlit gives a bidirectional component's event widget (bidi_component/main.py).
EVENTS_ID = "$$STREAMLIT_INTERNAL_KEY_{}__events"
STEP = re.compile(r"step ([\d,]+)")
T = TypeVar("T")


def run(coroutine: Coroutine[object, object, T]) -> T:
    """`asyncio.run(coroutine)` on a thread of its own: its event loop must not meet one already running
    here (the synchronous Playwright of the browser tests keeps one on the main thread)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


class AppSession:
    """One tab of the app at `url` opened with `query`; `open()` connects and starts the first run."""

    def __init__(self, url: str, query: str = "") -> None:
        self.url, self.query = url, query
        self.elements: dict[tuple[int, ...], Element] = {}
        self.values: dict[str, WidgetState] = {}  # widget values set by this client, sent on every rerun
        self.fragment_of: dict[str, str] = {}  # widget id -> the fragment that drew it ("" for none)
        self.session_id = ""
        self._started: list[tuple[str, tuple[str, ...]]] = []  # (script run id, its fragments), as begun
        self._acting = False  # an action is waiting for its run: no auto-rerun is sent meanwhile
        self._ended: dict[str, bool] = {}  # script run id -> ended normally (not cut short by a rerun)
        self._page_hash = ""
        self._run = ""  # the script run whose messages are arriving
        self._written: dict[tuple[int, ...], tuple[str, str]] = {}  # path -> (script run id, fragment id)
        self._auto: dict[str, tuple[float, float, str]] = {}  # fragment id -> (interval, next due, run id)
        self._changed = asyncio.Event()
        self._file_urls: dict[str, asyncio.Future] = {}
        self._xsrf = ""
        self._ws: ClientConnection | None = None
        self._tasks: list[asyncio.Task] = []

    async def open(self) -> None:
        self._xsrf = await asyncio.to_thread(self._xsrf_cookie)
        host = self.url.split("://", 1)[1]
        self._ws = await connect(
            f"ws://{host}/_stcore/stream",
            subprotocols=["streamlit", self._xsrf],
            additional_headers={"Origin": self.url, "Cookie": f"{XSRF_COOKIE}={self._xsrf}"},
            max_size=None,
            open_timeout=120,
        )
        self._tasks = [asyncio.create_task(self._read()), asyncio.create_task(self._auto_reruns())]
        await self.rerun()

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._ws is not None:
            await self._ws.close()

    def _xsrf_cookie(self) -> str:
        with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=60) as answer:
            for header in answer.headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                if name.strip() == XSRF_COOKIE:
                    return rest.split(";")[0]
        return ""

    async def rerun(self, *triggers: WidgetState, fragment_id: str = "", auto: bool = False) -> None:
        state = ClientState(query_string=self.query, page_script_hash=self._page_hash, fragment_id=fragment_id,
                            is_auto_rerun=auto)  # fmt: skip
        state.widget_states.widgets.extend([*self.values.values(), *triggers])
        await self._send(BackMsg(rerun_script=state))

    async def _act(self, *triggers: WidgetState, fragment_id: str = "", timeout: float = 120) -> None:
        """A rerun for the user's action, returning once a run of its kind (the whole page, or that
        fragment) whose start arrived after it was sent has ended normally: by then the page shows the
        action's effect. No auto-rerun is sent meanwhile; one of the same fragment already under way
        whose start had not yet arrived can still pass for it, so a caller that must see the effect
        waits for it too (the inspector naming the clicked point)."""
        self._acting = True
        try:
            mark = len(self._started)
            await self.rerun(*triggers, fragment_id=fragment_id)
            kinds = {(), (fragment_id,)} if fragment_id else {()}  # a full run reruns every fragment too

            def ended() -> bool:
                return any(self._ended.get(run) and runs in kinds for run, runs in self._started[mark:])

            await self.wait_for(ended, timeout, "the run")
        finally:
            self._acting = False

    async def _send(self, message: BackMsg) -> None:
        assert self._ws is not None, "open() first"
        await self._ws.send(message.SerializeToString())

    async def _read(self) -> None:
        assert self._ws is not None
        async for frame in self._ws:
            message = ForwardMsg()
            message.ParseFromString(frame)
            self._receive(message)
            self._changed.set()

    def _receive(self, message: ForwardMsg) -> None:
        kind = message.WhichOneof("type")
        if kind == "new_session":  # a run starts (a fragment's too): what follows until its end is its own
            self.session_id = message.new_session.initialize.session_id or self.session_id
            self._page_hash = message.new_session.page_script_hash
            self._run = message.metadata.run.script_run_id
            self._started.append((self._run, tuple(message.metadata.run.fragment_ids)))
        elif kind == "delta":
            path = tuple(message.metadata.delta_path)
            self._written[path] = (self._run, message.delta.fragment_id)
            if message.delta.WhichOneof("type") != "new_element":  # a block now holds the path
                self.elements.pop(path, None)
            else:
                element = message.delta.new_element
                self.elements[path] = element
                if widget_id := getattr(getattr(element, element.WhichOneof("type") or "", None), "id", ""):
                    self.fragment_of[widget_id] = message.delta.fragment_id
        elif kind == "script_finished":
            self._ended[self._run] = message.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN
            self._drop_stale(self._run, set(message.metadata.run.fragment_ids), message.script_finished)
        elif kind == "page_info_changed":
            self.query = message.page_info_changed.query_string
        elif kind == "auto_rerun":
            interval = message.auto_rerun.interval
            self._auto[message.auto_rerun.fragment_id] = (interval, time.monotonic() + interval, self._run)
        elif kind == "stop_auto_rerun":
            for fragment in message.stop_auto_rerun.fragment_ids:
                self._auto.pop(fragment, None)
        elif kind == "file_urls_response":
            future = self._file_urls.pop(message.file_urls_response.response_id, None)
            if future is not None and not future.done():
                future.set_result(message.file_urls_response)

    def _drop_stale(self, run: str, fragments: set[str], status: int) -> None:
        """After a run that ended normally, what it did not write again is gone: the whole page's
        elements after a full run, the fragments' own after a fragment run (as a browser does)."""
        if status not in (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY):
            return
        stale = {
            path
            for path, (by, fragment) in self._written.items()
            if by != run and (not fragments or fragment in fragments)
        }
        for path in stale:
            self.elements.pop(path, None)
            del self._written[path]
        if not fragments:  # a fragment that did not ask to repeat in this full run has stopped
            self._auto = {f: due for f, due in self._auto.items() if due[2] == run}

    async def _auto_reruns(self) -> None:
        while True:
            now = time.monotonic()
            for fragment, (interval, due, run) in list(self._auto.items()):
                if now >= due and not self._acting:
                    self._auto[fragment] = (interval, now + interval, run)
                    await self.rerun(fragment_id=fragment, auto=True)
            await asyncio.sleep(0.02)

    async def wait_for(self, found: Callable[[], object], timeout: float, what: str) -> object:
        """The first true value of `found()`, checked after every message; TimeoutError names `what`."""
        deadline = time.monotonic() + timeout
        while not (value := found()):
            self._changed.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"waited {timeout:g} s for {what}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)
        return value

    def widgets(self, kind: str) -> list[Any]:
        """The page's widgets of one element kind ("button", "slider", ...), in page order."""
        return [getattr(e, kind) for _, e in sorted(self.elements.items()) if e.WhichOneof("type") == kind]

    def button(self, label: str, enabled: bool = True) -> Any | None:
        """The first button with this label (and enabled, unless asked otherwise), or None."""
        return next((b for b in self.widgets("button") if b.label == label and (not b.disabled or not enabled)), None)

    def texts(self) -> list[str]:
        return [e.markdown.body for _, e in sorted(self.elements.items()) if e.WhichOneof("type") == "markdown"] + [
            e.alert.body for _, e in sorted(self.elements.items()) if e.WhichOneof("type") == "alert"
        ]

    def step(self) -> int:
        """The step the readout line shows ("step 1,240 · 830 steps/s · ..."), or -1 before it exists."""
        for text in self.texts():
            if "steps/s" in text and (match := STEP.search(text)):
                return int(match.group(1).replace(",", ""))
        return -1

    def exceptions(self) -> int:
        return sum(1 for e in self.elements.values() if e.WhichOneof("type") == "exception")

    async def click(self, label: str) -> None:
        button = self.button(label)
        if button is None:
            raise LookupError(f"no enabled button {label!r}")
        await self._act(WidgetState(id=button.id, trigger_value=True), fragment_id=self.fragment_of.get(button.id, ""))

    async def set_slider(self, label: str, value: float) -> None:
        """Move a slider to `value`; a select slider (it has options) to its option of index `value`."""
        slider = next(s for s in self.widgets("slider") if s.label == label)
        state = WidgetState(id=slider.id)
        if slider.options:  # sent as the option's text, as Streamlit's select_slider reads it
            state.string_array_value.data.append(slider.options[int(value)])
        else:
            state.double_array_value.data.append(value)
        self.values[slider.id] = state
        await self._act()

    async def component_event(
        self, name: str, event: str, payload: dict, in_fragment: bool = True, with_state: bool = True
    ) -> None:
        """Send an event of the bidirectional component named `name`, as its setTriggerValue does: in a
        rerun of the fragment that drew it (`in_fragment` False: a full run), with a value for the
        component's state widget (`with_state` False: none, and Streamlit then holds no state for the
        component when the event's callback reads it)."""
        component = next(c for c in self.widgets("bidi_component") if c.component_name.endswith(name))
        trigger = WidgetState(id=EVENTS_ID.format(component.id))
        trigger.json_trigger_value = json.dumps([{"event": event, "value": payload}])
        state = [WidgetState(id=component.id, json_value="{}")] if with_state else []
        await self._act(trigger, *state, fragment_id=self.fragment_of.get(component.id, "") if in_fragment else "")

    async def upload(self, label: str, path: Path) -> None:
        """Give the file uploader with this label one file, as a browser does."""
        uploader = next(u for u in self.widgets("file_uploader") if u.label == label)
        request_id = uuid.uuid4().hex
        future = asyncio.get_running_loop().create_future()
        self._file_urls[request_id] = future
        request = BackMsg()
        request.file_urls_request.request_id = request_id
        request.file_urls_request.session_id = self.session_id
        request.file_urls_request.file_names.append(path.name)
        await self._send(request)
        urls = (await asyncio.wait_for(future, 60)).file_urls[0]
        await asyncio.to_thread(self._put, urls.upload_url, path)
        value = WidgetState(id=uploader.id)
        info = value.file_uploader_state_value.uploaded_file_info.add()
        info.name, info.size, info.file_id = path.name, path.stat().st_size, urls.file_id
        info.file_urls.CopyFrom(urls)
        self.values[uploader.id] = value
        await self._act()

    def _put(self, upload_url: str, path: Path) -> None:
        boundary = uuid.uuid4().hex
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{path.name}"; filename="{path.name}"\r\n'
                f"Content-Type: text/csv\r\n\r\n"
            ).encode()
            + path.read_bytes()
            + f"\r\n--{boundary}--\r\n".encode()
        )
        url = upload_url if upload_url.startswith("http") else f"{self.url}{upload_url}"
        request = urllib.request.Request(url, data=body, method="PUT", headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "X-Xsrftoken": self._xsrf,
            "Cookie": f"{XSRF_COOKIE}={self._xsrf}",
            "Origin": self.url,
        })  # fmt: skip
        with urllib.request.urlopen(request, timeout=60) as answer:
            answer.read()
