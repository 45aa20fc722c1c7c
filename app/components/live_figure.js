// A Plotly figure that stays mounted: each update goes through Plotly.react on the same element, so the
// chart never blanks and zoom, legend clicks and hover survive (the figures set layout.uirevision).
// Plotly itself arrives once per page through the "plotly" component (plotly_loader.js).

function whenPlotly(run) {
  if (window.Plotly) run();
  else window.addEventListener("moe-plotly-ready", run, { once: true });
}

export default function (component) {
  const { data, parentElement } = component;
  if (!data) return;
  whenPlotly(() => {
    let chart = parentElement.__moeFigure;
    const config = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["lasso2d", "select2d"] };
    if (!chart) {
      chart = document.createElement("div");
      chart.className = "moe-figure";
      parentElement.appendChild(chart);
      parentElement.__moeFigure = chart;
      window.Plotly.newPlot(chart, data.figure.data, data.figure.layout, config);
      // follow the column's width (Plotly's own "responsive" only listens to the window)
      new ResizeObserver(() => window.Plotly.Plots.resize(chart)).observe(parentElement);
    } else {
      window.Plotly.react(chart, data.figure.data, data.figure.layout, config);
    }
    chart.dataset.revision = String(data.revision);
  });
}
