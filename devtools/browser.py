"""Start `streamlit run app` on a free loopback port and drive it with Playwright in Debian's Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps trying hosts this sandbox cannot reach.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The step counter of the readout line ("step 1,240 · 830 steps/s · ..."), or -1 before it is drawn.
STEP_JS = """() => {
  const line = [...document.querySelectorAll('[data-testid="stMarkdown"]')].find(e => e.innerText.includes('steps/s'));
  return line ? parseInt(line.innerText.split(' ')[1].replace(/,/g, '')) : -1;
}"""
# The routing map's heatmap image (first chart on the page): it changes whenever the map is redrawn.
MAP_JS = "() => { const i = document.querySelector('.stPlotlyChart image'); return i ? i.getAttribute('href') : null; }"
# Count map redraws for `ms` milliseconds: Streamlit remounts the chart, so its main svg is replaced.
REDRAWS_JS = """async (ms) => {
  let redraws = 0, last = null;
  const start = performance.now();
  while (performance.now() - start < ms) {
    await new Promise(r => setTimeout(r, 20));
    const svg = document.querySelector('.stPlotlyChart .main-svg');
    if (svg !== last) { redraws++; last = svg; }
  }
  return redraws;
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Server:
    url: str
    pid: int

    def cpu_seconds(self) -> float:
        """User and system CPU time the server process has used so far (Linux /proc)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def streamlit_server(timeout: float = 60) -> Iterator[Server]:
    """Plain `streamlit run app` from the repository root (the command the README gives), logging to a
    temporary file; yields the server once /_stcore/health says ok."""
    port = free_port()
    command = [str(Path(sys.executable).with_name("streamlit")), "run", "app", "--server.headless", "true",
               "--server.address", "127.0.0.1", "--server.port", str(port)]  # fmt: skip
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                        break
                except OSError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        process.kill()
                        log.seek(0)
                        raise RuntimeError(f"streamlit did not start: {log.read()}") from None
                    time.sleep(0.2)
            yield Server(url, process.pid)
        finally:
            process.terminate()
            process.wait(timeout=20)


@contextmanager
def chromium() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        raise RuntimeError("Debian's chromium is missing: scripts/test.sh installs it (apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def open_app(browser: Browser, url: str, height: int = 1100) -> Page:
    """A new page on the app, returned once the toolbar, the step counter and the map are drawn."""
    page = browser.new_page(viewport={"width": 1600, "height": height})
    page.goto(url)
    page.get_by_role("button", name="Play").wait_for(timeout=90_000)
    page.wait_for_function(f"() => ({STEP_JS})() >= 0 && ({MAP_JS})() !== null", timeout=60_000)
    return page


def exception_boxes(page: Page) -> int:
    return page.locator('[data-testid="stException"]').count()
