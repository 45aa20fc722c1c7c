// The routing map's pointer input (loaded before live_map.js, in the same module): hover names the
// point or the region under the cursor, drag pans, Ctrl/Shift + wheel zooms, a double-click resets the
// view, and a click sends {x, y, index} (index: the nearest point within reach, or null).

const REACH = 9; // pixels within which a click or hover takes a point

function hit(map, event) {
  const rect = map.canvas.getBoundingClientRect();
  const box = map.plotBox();
  const px = event.clientX - rect.left, py = event.clientY - rect.top;
  const inside = px >= box.x && px <= box.x + box.w && py >= box.y && py <= box.y + box.h;
  const [x, y] = map.toData(box, px, py);
  let best = null, bestDistance = REACH;
  const p = map.data.points;
  for (let i = 0; i < p.x.length; i++) {
    const [qx, qy] = map.toPixel(box, p.x[i], p.y[i]);
    const d = Math.hypot(qx - px, qy - py);
    if (d < bestDistance) { best = i; bestDistance = d; }
  }
  return { inside, x, y, px, py, box, point: best };
}

function describe(map, h) {
  const { points: p, classes, extent, code_labels: labels } = map.data;
  if (h.point !== null) {
    const dropped = p.dropped[h.point] ? " · dropped: no expert took it" : "";
    return `point #${p.index[h.point]} · ${classes[p.cls[h.point]].name}${dropped}`;
  }
  const [e0, e1, f0, f1] = extent;
  const col = Math.floor(((h.x - e0) / (e1 - e0)) * map.side);
  const row = Math.floor(((h.y - f0) / (f1 - f0)) * map.side);
  if (col < 0 || row < 0 || col >= map.side || row >= map.side) return "";
  return `x ${h.x.toFixed(2)}, y ${h.y.toFixed(2)} · ${labels[map.codes[row * map.side + col]] || ""}`;
}

function hover(map, event) {
  if (!map.data) return;
  const h = hit(map, event);
  if (map.drag) {
    const [x0, x1, y0, y1] = map.drag.window;
    const dx = ((h.px - map.drag.px) / h.box.w) * (x1 - x0);
    const dy = ((h.py - map.drag.py) / h.box.h) * (y1 - y0);
    if (Math.abs(h.px - map.drag.px) + Math.abs(h.py - map.drag.py) > 3) map.drag.moved = true;
    map.window = [x0 - dx, x1 - dx, y0 + dy, y1 + dy];
    map.draw();
    return;
  }
  const text = h.inside ? describe(map, h) : "";
  map.tip.textContent = text;
  map.tip.style.display = text ? "block" : "none";
  map.tip.style.left = `${h.px + 14}px`;
  map.tip.style.top = `${h.py + 10}px`;
}

function zoom(map, event) {
  // a plain wheel scrolls the page; with Ctrl (or a trackpad pinch) or Shift it zooms the map
  if (!(event.ctrlKey || event.shiftKey || event.metaKey)) return;
  const h = hit(map, event);
  if (!h.inside) return;
  event.preventDefault();
  const [e0, e1] = map.data.extent;
  const [x0, x1, y0, y1] = map.window;
  const scale = Math.min(event.deltaY > 0 ? 1.15 : 1 / 1.15, (e1 - e0) / (x1 - x0)); // no further out than all
  map.window = [h.x + (x0 - h.x) * scale, h.x + (x1 - h.x) * scale, h.y + (y0 - h.y) * scale, h.y + (y1 - h.y) * scale];
  if (map.window[1] - map.window[0] >= e1 - e0 - 1e-9) map.window = map.data.extent.slice();
  map.draw();
}

function listen(map) {
  const c = map.canvas;
  c.addEventListener("mousemove", (event) => hover(map, event));
  c.addEventListener("mouseleave", () => { map.tip.style.display = "none"; map.drag = null; });
  c.addEventListener("mousedown", (event) => {
    const h = hit(map, event);
    if (h.inside) map.drag = { px: h.px, py: h.py, window: map.window.slice(), moved: false };
  });
  c.addEventListener("mouseup", (event) => {
    const drag = map.drag;
    map.drag = null;
    // the second click of a double-click only resets the view; the first has already inspected
    if (!drag || drag.moved || event.detail > 1) return;
    const h = hit(map, event);
    const index = h.point === null ? null : map.data.points.index[h.point];
    map.send("click", { x: h.x, y: h.y, index });
  });
  c.addEventListener("dblclick", () => { map.window = map.data.extent.slice(); map.draw(); });
  c.addEventListener("wheel", (event) => zoom(map, event), { passive: false });
}
