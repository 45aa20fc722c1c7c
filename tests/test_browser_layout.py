"""A classroom's layout, measured in the real page (devtools.layout): at 1024x768 with the sidebar open
and closed, 1280x720 (and in Present) and 1600x1000, after Play to about 300 steps and Pause, with the
page scrolled through so that every chart below the fold is drawn, no chart label is clipped, no two
chart texts overlap, no chart text is under 14 px and no button label is cut; the routing map names its
expert colours and its class markers.
"""

import json

import plotly.graph_objects as go
import plotly.offline
from playwright.sync_api import Page

from devtools import layout
from devtools.browser import ROOT, open_app

ARTIFACTS = ROOT / "test-artifacts" / "layout"
# The live panel's charts and the map: fewer measured means a chart went missing, not that it is fine.
LIVE_CHARTS = {"load_area", "collapse", "training", "thumbs", "contingency", "spec_curves", "routing_map"}


def _paused_page(browser, server, width: int, height: int) -> Page:
    page = open_app(browser, f"{server.url}/?view.speed=full", height=height, width=width)
    layout.play_then_pause(page)
    return page


def _measured(page: Page, state: str, expected: set[str] = LIVE_CHARTS) -> layout.Report:
    layout.scroll_through(page)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{state.replace(' ', '-')}.png")
    report = layout.measure(page, state)
    keys = {name.rsplit("[", 1)[-1].rstrip("]") for name in report.charts}
    assert expected <= keys, f"{state}: charts missing from the page: {sorted(expected - keys)}"
    return report


def _assert_readable(*reports: layout.Report) -> None:
    bad = [r for r in reports if r.problems]
    assert not bad, "layout problems a class would see:\n" + "\n".join(r.describe() for r in bad)


def test_at_1024x768_every_chart_reads_with_the_sidebar_open_and_closed(browser, server):
    page = _paused_page(browser, server, 1024, 768)
    opened = _measured(page, "1024x768 sidebar open")
    layout.close_sidebar(page)
    closed = _measured(page, "1024x768 sidebar closed")
    page.close()
    _assert_readable(opened, closed)


def test_at_1280x720_every_chart_reads_also_in_present_mode(browser, server):
    page = _paused_page(browser, server, 1280, 720)
    plain = _measured(page, "1280x720")
    layout.present(page)
    presenting = _measured(page, "1280x720 present", {"routing_map"})  # Present may leave charts out
    page.close()
    _assert_readable(plain, presenting)


def test_at_1600x1000_every_chart_reads(browser, server):
    page = _paused_page(browser, server, 1600, 1000)
    report = _measured(page, "1600x1000")
    page.close()
    _assert_readable(report)


# A page holding what the measure must find: a Plotly chart with a title wider than the chart, a
# legend longer than its plot (Plotly scrolls it, hiding the rest), 11 px ticks and two notes on one
# spot; a button too narrow for its label; and a map whose canvas draws its legend past its edge,
# over its title, without one of its experts and without a key to its markers.
CUT_BUTTON = """<button style="width: 60px; overflow: hidden; white-space: nowrap">
  <div data-testid="stMarkdownContainer"><p>Remove E1 (22%)</p></div></button>"""
FAKE_MAP_JS = """() => {
  const host = document.createElement('div'), root = document.createElement('div');
  root.className = 'moe-map';
  const canvas = document.createElement('canvas');
  canvas.width = 300; canvas.height = 200; canvas.style.width = '300px'; canvas.style.height = '200px';
  root.append(canvas); host.append(root); document.body.append(host);
  host.__moeMap = {
    canvas,
    data: {title: 'Routing map', legend: [{label: 'E0'}, {label: 'E1'}], points: {x: [0]},
           classes: [{name: 'class 0'}, {name: 'class 1'}]},
    draw() {
      const ctx = canvas.getContext('2d');
      ctx.font = '16px sans-serif'; ctx.fillText('Routing map', 10, 30);
      ctx.fillText('E0', 290, 100);  // past the canvas's right edge; E1 never drawn
      ctx.font = '12px sans-serif'; ctx.fillText('faint: unsure', 20, 28);  // on the title, small
    },
  };
}"""


def _bad_figure() -> dict:
    fig = go.Figure([go.Scatter(x=[0, 1], y=[n, n], name=f"trace {n}") for n in range(30)])
    fig.update_layout(width=320, height=260, title={"text": "A title far too long for this narrow chart"})
    fig.update_layout(font={"size": 14}, xaxis={"tickfont": {"size": 11}})
    for note in ("a note", "another note"):  # both at one spot
        fig.add_annotation(text=note, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False)
    return json.loads(fig.to_json())


def test_the_measure_finds_cut_labels_overlaps_small_text_cut_buttons_and_missing_legends(browser):
    page = browser.new_page(viewport={"width": 800, "height": 600})
    page.set_content(f"<div id='chart' class='js-plotly-plot'></div>{CUT_BUTTON}")
    page.add_script_tag(content=plotly.offline.get_plotlyjs())
    page.evaluate("(f) => Plotly.newPlot('chart', f.data, f.layout)", _bad_figure())
    page.evaluate(FAKE_MAP_JS)
    report = layout.measure(page)
    page.close()
    found = {(p.kind, p.text) for p in report.problems}
    chart = "A title far too long for this narrow chart"
    assert ("clipped", chart) in found and ("clipped", "trace 5") in found  # the title; under the legend's scroll box
    assert ("clipped", "trace 0") not in found  # the legend's first entries show
    assert ("overlap", "a note | another note") in found
    assert ("small", "0") in found and ("small", "trace 0") not in found  # the 11 px ticks only
    assert ("button", "Remove E1 (22%)") in found
    assert {("clipped", "E0"), ("clipped", "E1"), ("overlap", "Routing map | faint: unsure")} <= found
    assert ("small", "faint: unsure") in found and ("legend", "class 0, class 1") in found
