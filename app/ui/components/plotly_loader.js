// Gives the page plotly.js once: the first render brings its source (sent by the server once per
// session); if a page lacks it (reloaded, or the first message was missed), it asks again.

export default function (component) {
  const { data, setTriggerValue } = component;
  if (window.Plotly || window.__moePlotlyLoading) return;
  if (data && data.source) {
    window.__moePlotlyLoading = true;
    const script = document.createElement("script");
    script.textContent = data.source;
    document.head.appendChild(script);
    window.dispatchEvent(new Event("moe-plotly-ready"));
  } else {
    setTriggerValue("missing", true);
  }
}
