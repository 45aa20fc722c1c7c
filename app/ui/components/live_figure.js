// A Plotly figure that stays mounted: each update goes through Plotly.react on the same element, so the
// chart never blanks and zoom, legend clicks and hover survive (the figures set layout.uirevision).
// Plotly itself arrives once per page through the "plotly" component (plotly_loader.js).

function whenPlotly(run) {
  if (window.Plotly) run();
  else window.addEventListener("moe-plotly-ready", run, { once: true });
}

const CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["lasso2d", "select2d"] };

function mount(parentElement, figure) {
  const chart = document.createElement("div");
  chart.className = "moe-figure";
  parentElement.appendChild(chart);
  window.Plotly.newPlot(chart, figure.data, figure.layout, CONFIG);
  // follow the column's width (Plotly's own "responsive" only listens to the window); a resize of a
  // chart that has just left the page rejects, which is of no interest
  let width = parentElement.clientWidth;
  const resizer = new ResizeObserver(() => {
    if (parentElement.clientWidth === width) return;
    width = parentElement.clientWidth;
    window.Plotly.Plots.resize(chart).catch(() => {});
  });
  resizer.observe(parentElement);
  chart.destroy = () => {
    resizer.disconnect();
    window.Plotly.purge(chart);
    chart.remove();
  };
  return chart;
}

export default function (component) {
  const { data, parentElement } = component;
  if (!data) return;
  whenPlotly(() => {
    let chart = parentElement.__moeFigure;
    if (!chart) parentElement.__moeFigure = chart = mount(parentElement, data.figure);
    else window.Plotly.react(chart, data.figure.data, data.figure.layout, CONFIG);
    chart.dataset.revision = String(data.revision);
  });
  // Streamlit may call this between updates too; only a chart whose element has left the page goes
  return () => setTimeout(() => {
    if (parentElement.isConnected || !parentElement.__moeFigure) return;
    parentElement.__moeFigure.destroy();
    delete parentElement.__moeFigure;
  });
}
