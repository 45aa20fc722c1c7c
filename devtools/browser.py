"""Start `streamlit run app` on a free loopback port and drive it with Playwright in Debian's Chromium."""

from __future__ import annotations

import base64
import contextlib
import io
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
from typing import Any

import numpy as np
from PIL import Image
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
# How many times the live map has been painted (null before it exists): it grows with every update.
MAP_JS = "() => { const m = document.querySelector('.moe-map'); return m ? Number(m.dataset.drawn) : null; }"
# The live map's element, and the step its data was last drawn at (null before it exists).
MAP_STEP_JS = "() => { const m = document.querySelector('.moe-map'); return m ? Number(m.dataset.step) : null; }"
# Where the map draws a data point a click takes for certain, in page pixels, with the point's index:
# [x, y, index]. It is the first from the i-th (in turn) that lies inside the plot and the window and
# has no other point within 3 pixels (the click lands on whole pixels, and the nearest point wins).
# Null while the map is being redrawn (after an upload its element is replaced), or when no such point
# is in the window: then the map is scrolled into view for the next try.
POINT_JS = """(i) => {
  const root = document.querySelector('.moe-map'); const map = root && root.parentElement.__moeMap;
  if (!map || !map.data || !map.data.points) return null;
  const rect = map.canvas.getBoundingClientRect(), box = map.plotBox(), p = map.data.points, n = p.x.length;
  const at = p.x.map((x, j) => map.toPixel(box, x, p.y[j]));
  for (let step = 0; step < n; step++) {
    const k = (i + step) % n, [x, y] = at[k], px = rect.left + x, py = rect.top + y;
    const inside = x > box.x + 2 && x < box.x + box.w - 2 && y > box.y + 2 && y < box.y + box.h - 2;
    const visible = px > 2 && py > 2 && px < window.innerWidth - 2 && py < window.innerHeight - 2;
    if (inside && visible && at.every(([qx, qy], j) => j === k || Math.hypot(qx - x, qy - y) > 3))
      return [px, py, p.index[k]];
  }
  map.canvas.scrollIntoView({block: 'center'});
  return null;
}"""
# Distinct map steps seen at each animation frame for `ms` milliseconds: how often its data changes.
MAP_CHANGES_JS = """async (ms) => {
  let changes = 0, last = null;
  const start = performance.now();
  await new Promise(done => {
    function tick() {
      const m = document.querySelector('.moe-map');
      const drawn = m ? m.dataset.drawn : null;
      if (drawn !== last) { changes++; last = drawn; }
      if (performance.now() - start < ms) requestAnimationFrame(tick); else done();
    }
    requestAnimationFrame(tick);
  });
  return changes;
}"""


def record_frames(page: Page, seconds: float, during=None) -> list[bytes]:
    """Every frame Chromium paints for `seconds` (its screencast), as JPEG bytes; `during(page)` runs
    meanwhile and its result is ignored."""
    cdp = page.context.new_cdp_session(page)
    frames: list[bytes] = []

    def keep(event: dict) -> None:
        frames.append(base64.b64decode(event["data"]))
        with contextlib.suppress(Exception):  # the recording may have stopped meanwhile
            cdp.send("Page.screencastFrameAck", {"sessionId": event["sessionId"]})

    cdp.on("Page.screencastFrame", keep)
    cdp.send("Page.startScreencast", {"format": "jpeg", "quality": 30})
    if during is not None:
        during(page)
    else:
        page.wait_for_timeout(seconds * 1000)  # the recording window itself
    cdp.send("Page.stopScreencast")
    cdp.detach()
    return frames


def blank_frames(frames: list[bytes], box: dict, viewport: dict) -> int:
    """How many frames show the map's area (box, in page pixels) all but empty: near-white."""
    blank = 0
    for frame in frames:
        image = np.asarray(Image.open(io.BytesIO(frame)).convert("L"), dtype=np.float32)
        sx, sy = image.shape[1] / viewport["width"], image.shape[0] / viewport["height"]
        top, bottom = int(box["y"] * sy), int(min(box["y"] + box["height"], viewport["height"]) * sy)
        left, right = int(box["x"] * sx), int((box["x"] + box["width"]) * sx)
        region = image[top:bottom, left:right]
        blank += int(region.size == 0 or (region > 235).mean() > 0.97)
    return blank


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Server:
    url: str
    pid: int
    log: Any  # the server's output so far, a file open for reading

    def paused(self) -> list[tuple[float, int]]:
        """When the server's workers paused training (wall-clock seconds) and at which step, from its
        log (MOE_EXPLORER_LOG=INFO, which streamlit_server sets)."""
        self.log.seek(0)
        found = []
        for line in self.log:
            if " paused at " in line:
                at, step = line.split(" paused at ")[1].split(", step ")
                found.append((float(at), int(step.split()[0])))
        return found

    def pauses(self) -> list[float]:
        """When the server's workers paused training (wall-clock seconds)."""
        return [at for at, _ in self.paused()]

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
    with tempfile.TemporaryFile("a+") as log:  # appending: the server writes at the end whatever we read
        env = {**os.environ, "MOE_EXPLORER_LOG": "INFO"}
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True, env=env)
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
            yield Server(url, process.pid, log)
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


def open_app(browser: Browser, url: str, height: int = 1100, width: int = 1600) -> Page:
    """A new page on the app, returned once the toolbar, the step counter and the map are drawn."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(url)
    page.get_by_role("button", name="Play").wait_for(timeout=90_000)
    page.wait_for_function(f"() => ({STEP_JS})() >= 0 && ({MAP_JS})() !== null", timeout=60_000)
    return page


def exception_boxes(page: Page) -> int:
    return page.locator('[data-testid="stException"]').count()
