// Keyboard shortcuts on the page (the Train page's toolbar): a key named in data.keys sends its action
// to Python (trigger "press", with an id of its own, so that a trigger handed back by a rerun is not
// taken for a second press), unless the user is typing in a field or holds Ctrl, Alt or Meta. A
// focused slider keeps its own arrow keys; a held key repeats only for the arrows (scrubbing), never
// for Space (it would toggle Play and Pause on and off).

const TYPING = "input, textarea, select, [contenteditable=''], [contenteditable='true'], [role='combobox'], [role='listbox']";

function actionOf(state, event) {
  if (event.ctrlKey || event.altKey || event.metaKey) return null;
  const target = event.target instanceof Element ? event.target : null;
  if (target && (target.isContentEditable || target.closest(TYPING))) return null;
  const arrow = event.key.startsWith("Arrow");
  if (arrow && target && target.closest("[role='slider']")) return null;
  if (event.repeat && !arrow) return null;
  return state.keys[event.key.length === 1 ? event.key.toLowerCase() : event.key] || null;
}

function listen(state) {
  const down = (event) => {
    const action = actionOf(state, event);
    if (!action) return;
    event.preventDefault(); // Space would scroll the page, or press the button that has the focus
    state.pressed = (state.pressed || 0) + 1;
    state.send("press", { action, id: `${state.since}-${state.pressed}` });
  };
  // a focused button acts on Space's keyup: held back, so that one key press is one action
  const up = (event) => { if (actionOf(state, event)) event.preventDefault(); };
  document.addEventListener("keydown", down);
  document.addEventListener("keyup", up);
  state.stop = () => {
    document.removeEventListener("keydown", down);
    document.removeEventListener("keyup", up);
  };
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  let state = parentElement.__moeShortcuts;
  if (!state) {
    state = parentElement.__moeShortcuts = { since: Date.now() };
    listen(state);
  }
  state.keys = (data && data.keys) || {};
  state.send = setTriggerValue;
  // Streamlit may call this between updates too; only an element that has left the page stops listening
  return () => setTimeout(() => {
    if (parentElement.isConnected || !parentElement.__moeShortcuts) return;
    parentElement.__moeShortcuts.stop();
    delete parentElement.__moeShortcuts;
  });
}
