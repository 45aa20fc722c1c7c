"""Widget values the app sets itself (a link, a file, a kept run, a rule's pinned options), kept safe
from the page's own stale requests.

While training plays, the live fragments rerun about ten times a second, and every fragment request
carries the browser's value of every widget. One sent before the browser has received a value the
app set says the old value, and Streamlit takes it as the user changing the widget back (and calls
its callback). A person can only change a sidebar widget through a full run, so in a fragment run
a value the app set moments ago that has gone back to the one it replaced is restored, and its
callback does nothing. Measured: without this, an upload while playing was undone in about one try
in eight.

Each function reads and writes `state` (the session's state unless a test passes a dict) and asks
Streamlit whether this is a fragment run unless told.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, MutableMapping

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

RECORD = "ui.assigned"  # widget key -> (value it replaced, value set, monotonic time)
STALE_SECONDS = 2.0  # far longer than a request takes to cross; far shorter than a person's next choice

Record = dict[str, tuple[object, object, float]]


def in_fragment_run() -> bool:
    ctx = get_script_run_ctx()
    return bool(ctx is not None and ctx.fragment_ids_this_run)


def _recent(state: Mapping) -> Record:
    now = time.monotonic()
    return {key: entry for key, entry in state.get(RECORD, {}).items() if now - entry[2] < STALE_SECONDS}


def assign(values: Mapping[str, object], state: MutableMapping = st.session_state) -> None:
    """Set widgets' values from code; call before those widgets are drawn in this run."""
    record, now = _recent(state), time.monotonic()
    for key, value in values.items():
        previous = state.get(key)
        if previous != value:
            record[key] = (previous, value, now)
        state[key] = value
    state[RECORD] = record


def heal(state: MutableMapping = st.session_state, fragment_run: bool | None = None) -> list[str]:
    """In a fragment run, restore the values its stale request put back (returns their keys); in a
    full run, forget the values a person has changed since the app set them."""
    record = _recent(state)
    if not (in_fragment_run() if fragment_run is None else fragment_run):
        state[RECORD] = {key: entry for key, entry in record.items() if state.get(key) == entry[1]}
        return []
    restored = [key for key, (previous, _, _) in record.items() if state.get(key) == previous]
    for key in restored:
        state[key] = record[key][1]
    return restored


def reverted(key: str, state: MutableMapping = st.session_state, fragment_run: bool | None = None) -> bool:
    """Whether this widget's change came from a stale request undoing a value the app set (now
    restored); its callback then does nothing."""
    fragment_run = in_fragment_run() if fragment_run is None else fragment_run
    heal(state, fragment_run)
    record = _recent(state)
    return fragment_run and key in record and state.get(key) == record[key][1]
