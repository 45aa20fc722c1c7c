// The routing map, drawn on a canvas that stays mounted: each update repaints it in place, so no frame
// is ever blank, and zoom, pan and hover (map_input.js) live here, across updates. Data (see
// app/figures/routing_map.py):
// codes (base64 uint8, R x R, row = view y upwards), lut ([r, g, b] per code), code_labels, extent
// [x0, x1, y0, y1], points {x, y, cls, dropped, index}, classes [{name, fill, stroke, symbol}], selected,
// legend [{label, colour}] or colorbar {title, stops, ticks}, title, axes, step, font.
// A click sends {x, y, index} as the trigger "click".

const MARGIN = { left: 58, right: 112, top: 44, bottom: 48 };
const MIN_SIDE = 240; // the smallest plot side a student can still read the regions on

function decode(b64) {
  const text = atob(b64);
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function niceTicks(lo, hi, count) {
  const span = hi - lo;
  if (!(span > 0)) return [lo];
  const raw = span / count;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => span / s <= count) || 10 * mag;
  const ticks = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9; t += step) ticks.push(Math.abs(t) < 1e-12 ? 0 : t);
  return ticks;
}

function symbol(ctx, kind, x, y, r) {
  ctx.beginPath();
  if (kind === "square") ctx.rect(x - r, y - r, 2 * r, 2 * r);
  else if (kind === "diamond") {
    ctx.moveTo(x, y - r * 1.3); ctx.lineTo(x + r * 1.3, y); ctx.lineTo(x, y + r * 1.3); ctx.lineTo(x - r * 1.3, y);
    ctx.closePath();
  } else if (kind === "triangle") {
    ctx.moveTo(x, y - r * 1.3); ctx.lineTo(x + r * 1.2, y + r); ctx.lineTo(x - r * 1.2, y + r); ctx.closePath();
  } else ctx.arc(x, y, r, 0, 2 * Math.PI);
}

class LiveMap {
  constructor(parent) {
    this.root = document.createElement("div");
    this.root.className = "moe-map";
    this.canvas = document.createElement("canvas");
    this.tip = document.createElement("div");
    this.tip.className = "moe-map-tip";
    this.root.append(this.canvas, this.tip);
    parent.appendChild(this.root);
    this.image = document.createElement("canvas");
    this.window = null; // the visible data window [x0, x1, y0, y1], kept across updates
    this.titleLines = [""];
    this.drag = null;
    this.width = 0;
    this.frame = 0;
    listen(this);
    this.resizer = new ResizeObserver(() => this.resized());
    this.resizer.observe(this.root);
    // Something appearing above the map (a notice, the replay slider) moves its top, and the space
    // below the top bounds the map: the page's content changing size is when to look. Also a map
    // drawn while a rerun still showed stale elements above it settles at its size.
    this.page = this.root.closest(".stMainBlockContainer") || document.body;
    this.mover = new ResizeObserver(() => this.moved());
    this.mover.observe(this.page);
    this.redraw = () => this.draw(); // the window's height bounds the map's
    window.addEventListener("resize", this.redraw);
  }

  resized() {
    // the canvas sets the root's height, so only a new width calls for a redraw (a height would loop)
    if (this.root.clientWidth === this.width) return;
    this.width = this.root.clientWidth;
    this.schedule();
  }

  moved() {
    if (this.data && Math.round(this.root.getBoundingClientRect().top + window.scrollY) !== this.top) this.schedule();
  }

  schedule() {
    cancelAnimationFrame(this.frame);
    this.frame = requestAnimationFrame(this.redraw);
  }

  destroy() {
    this.resizer.disconnect();
    this.mover.disconnect();
    window.removeEventListener("resize", this.redraw);
    cancelAnimationFrame(this.frame);
    this.root.remove();
  }

  update(data, setTriggerValue) {
    this.send = setTriggerValue;
    const extentChanged = !this.data || this.data.extent.join() !== data.extent.join();
    this.data = data;
    if (extentChanged) this.window = data.extent.slice();
    this.paintImage();
    this.draw();
    this.root.dataset.step = String(data.step);
    this.root.dataset.drawn = String((Number(this.root.dataset.drawn) || 0) + 1);
  }

  paintImage() {
    const { codes, lut } = this.data;
    const bytes = decode(codes);
    const side = Math.round(Math.sqrt(bytes.length));
    this.side = side;
    this.codes = bytes;
    this.image.width = side;
    this.image.height = side;
    const ctx = this.image.getContext("2d");
    const img = ctx.createImageData(side, side);
    for (let row = 0; row < side; row++) {
      for (let col = 0; col < side; col++) {
        const colour = lut[bytes[row * side + col]] || [255, 255, 255];
        const o = 4 * ((side - 1 - row) * side + col); // row 0 is the bottom of the view
        img.data[o] = colour[0]; img.data[o + 1] = colour[1]; img.data[o + 2] = colour[2]; img.data[o + 3] = 255;
      }
    }
    ctx.putImageData(img, 0, 0);
  }

  plotBox() {
    // as wide as the column allows, and no taller than the window below the map's top, so the whole
    // map fits on a projector's screen; in a narrow column the legend goes under the map, not off it
    const width = this.root.clientWidth, font = this.data.font || 14;
    const top = MARGIN.top + (this.titleLines.length - 1) * (font + 6);
    const pageTop = this.root.getBoundingClientRect().top + window.scrollY;
    this.top = Math.round(pageTop);
    const beside = width - MARGIN.left - this.legendWidth() >= MIN_SIDE;
    const right = beside ? this.legendWidth() : 16;
    const below = MARGIN.bottom + this.keyHeight(width, font) + (beside ? 0 : this.legendRowsHeight(width, font));
    const fits = window.innerHeight - pageTop - top - below - 8;
    const side = Math.max(MIN_SIDE, Math.min(width - MARGIN.left - right, fits, 900));
    return { x: MARGIN.left, y: top, w: side, h: side, width, height: side + top + below, beside };
  }

  legendWidth() {
    // room for the longest legend label (experts named with their kind run long), at least MARGIN.right
    if (!this.data.legend) return MARGIN.right;
    const ctx = this.canvas.getContext("2d");
    ctx.font = `${this.data.font || 14}px sans-serif`;
    const longest = Math.max(...this.data.legend.map((row) => ctx.measureText(row.label).width));
    return Math.max(MARGIN.right, 16 + 22 + longest + 8);
  }

  rowsOf(items, width, font) {
    // legend entries [{label}] laid out left to right, wrapping at the canvas's width: [[x, item]] per row
    const ctx = this.canvas.getContext("2d");
    ctx.font = `${font}px sans-serif`;
    const rows = [[]];
    let x = 4;
    for (const item of items) {
      const w = 26 + ctx.measureText(item.label).width + 14;
      if (x + w > width && rows[rows.length - 1].length) { rows.push([]); x = 4; }
      rows[rows.length - 1].push([x, item]);
      x += w;
    }
    return rows;
  }

  legendRowsHeight(width, font) {
    // the title's row, then the entries' rows, or the colour bar's and its ticks'
    const rows = this.data.legend ? this.rowsOf(this.data.legend, width, font).length : 2;
    return (rows + 1) * (font + 10) + 8;
  }

  markerKeys() {
    // what the markers mean: each class's symbol, and the red cross where capacity left a point out
    const keys = this.data.classes.map((style) => ({ label: style.name, style }));
    if (this.data.points.dropped.some(Boolean)) keys.push({ label: "no expert (dropped)", cross: true });
    return keys;
  }

  keyHeight(width, font) {
    return this.rowsOf(this.markerKeys(), width, font).length * (font + 10) + 4;
  }

  wrapTitle(ctx, font) {
    // the title on as many lines as the width needs, so that it is never cut off
    ctx.font = `600 ${font + 3}px sans-serif`;
    const words = this.data.title.split(" "), lines = [];
    let line = "";
    for (const word of words) {
      const next = line ? `${line} ${word}` : word;
      if (line && ctx.measureText(next).width > this.root.clientWidth - 8) { lines.push(line); line = word; }
      else line = next;
    }
    lines.push(line);
    return lines;
  }

  toPixel(box, x, y) {
    const [x0, x1, y0, y1] = this.window;
    return [box.x + ((x - x0) / (x1 - x0)) * box.w, box.y + (1 - (y - y0) / (y1 - y0)) * box.h];
  }

  toData(box, px, py) {
    const [x0, x1, y0, y1] = this.window;
    return [x0 + ((px - box.x) / box.w) * (x1 - x0), y0 + (1 - (py - box.y) / box.h) * (y1 - y0)];
  }

  draw() {
    if (!this.data || !this.root.clientWidth) return;
    const font = this.data.font || 14;
    this.titleLines = this.wrapTitle(this.canvas.getContext("2d"), font);
    const box = this.plotBox();
    const ratio = window.devicePixelRatio || 1;
    const width = Math.round(box.width * ratio), height = Math.round(box.height * ratio);
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
      this.canvas.style.width = `${box.width}px`;
      this.canvas.style.height = `${box.height}px`;
    }
    const ctx = this.canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, box.width, box.height);
    ctx.font = `600 ${font + 3}px sans-serif`;
    ctx.fillStyle = "#1B1F24";
    ctx.textBaseline = "alphabetic";
    ctx.textAlign = "left";
    this.titleLines.forEach((line, i) => ctx.fillText(line, 4, font + 8 + i * (font + 6)));
    this.drawHeatmap(ctx, box);
    this.drawPoints(ctx, box);
    this.drawAxes(ctx, box, font);
    this.drawLegend(ctx, box, font);
  }

  drawHeatmap(ctx, box) {
    const [x0, x1, y0, y1] = this.window;
    const [e0, e1, f0, f1] = this.data.extent;
    const s = this.side;
    // the part of the image the window shows, in image pixels (row 0 at the top)
    const sx = ((x0 - e0) / (e1 - e0)) * s, sw = ((x1 - x0) / (e1 - e0)) * s;
    const sy = ((f1 - y1) / (f1 - f0)) * s, sh = ((y1 - y0) / (f1 - f0)) * s;
    ctx.save();
    ctx.beginPath();
    ctx.rect(box.x, box.y, box.w, box.h);
    ctx.clip();
    ctx.fillStyle = "#FFFFFF";
    ctx.fillRect(box.x, box.y, box.w, box.h);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(this.image, sx, sy, sw, sh, box.x, box.y, box.w, box.h);
    ctx.restore();
  }

  drawPoints(ctx, box) {
    const p = this.data.points;
    ctx.save();
    ctx.beginPath();
    ctx.rect(box.x, box.y, box.w, box.h);
    ctx.clip();
    const r = Math.max(3, Math.min(5, box.w / 110));
    for (let i = 0; i < p.x.length; i++) {
      const style = this.data.classes[p.cls[i]] || this.data.classes[0];
      const [px, py] = this.toPixel(box, p.x[i], p.y[i]);
      symbol(ctx, style.symbol, px, py, r);
      ctx.fillStyle = style.fill;
      ctx.fill();
      ctx.lineWidth = 1;
      ctx.strokeStyle = style.stroke;
      ctx.stroke();
    }
    ctx.strokeStyle = "#C00000";
    ctx.lineWidth = 2.5;
    for (let i = 0; i < p.x.length; i++) {
      if (!p.dropped[i]) continue;
      const [px, py] = this.toPixel(box, p.x[i], p.y[i]);
      ctx.beginPath();
      ctx.moveTo(px - 6, py - 6); ctx.lineTo(px + 6, py + 6);
      ctx.moveTo(px + 6, py - 6); ctx.lineTo(px - 6, py + 6);
      ctx.stroke();
    }
    const chosen = p.index.indexOf(this.data.selected);
    if (this.data.selected !== null && chosen >= 0) {
      const [px, py] = this.toPixel(box, p.x[chosen], p.y[chosen]);
      ctx.beginPath();
      ctx.arc(px, py, 11, 0, 2 * Math.PI);
      ctx.lineWidth = 3;
      ctx.strokeStyle = "#000000";
      ctx.stroke();
    }
    ctx.restore();
  }

  drawAxes(ctx, box, font) {
    const [x0, x1, y0, y1] = this.window;
    ctx.strokeStyle = "#8A9099";
    ctx.lineWidth = 1;
    ctx.strokeRect(box.x, box.y, box.w, box.h);
    ctx.fillStyle = "#444A52";
    ctx.font = `${font}px sans-serif`;
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (const t of niceTicks(x0, x1, 6)) {
      const [px] = this.toPixel(box, t, y0);
      ctx.fillText(+t.toFixed(6) + "", px, box.y + box.h + 6);
      ctx.beginPath(); ctx.moveTo(px, box.y + box.h); ctx.lineTo(px, box.y + box.h + 4); ctx.stroke();
    }
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const t of niceTicks(y0, y1, 6)) {
      const [, py] = this.toPixel(box, x0, t);
      ctx.fillText(+t.toFixed(6) + "", box.x - 8, py);
      ctx.beginPath(); ctx.moveTo(box.x - 4, py); ctx.lineTo(box.x, py); ctx.stroke();
    }
    ctx.font = `${font}px sans-serif`;
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    ctx.fillText(this.data.axes[0], box.x + box.w / 2, box.y + box.h + font + 12);
    ctx.save();
    ctx.translate(14, box.y + box.h / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.fillText(this.data.axes[1], 0, -6);
    ctx.restore();
  }

  drawLegend(ctx, box, font) {
    ctx.textAlign = "left";
    ctx.textBaseline = "middle";
    ctx.font = `${font}px sans-serif`;
    ctx.fillStyle = "#1B1F24";
    let y = box.y + box.h + MARGIN.bottom + font / 2 + 4;
    for (const row of this.rowsOf(this.markerKeys(), box.width, font)) {
      for (const [x, key] of row) this.drawKey(ctx, x, y, key, font);
      y += font + 10;
    }
    if (!box.beside) return this.drawLegendBelow(ctx, box, font, y + 4);
    const left = box.x + box.w + 16;
    if (this.data.legend) {
      const rows = this.data.legend;
      ctx.fillText(this.data.legend_title || "", left, box.y + 6);
      const gap = Math.min(font + 8, (box.h - 24) / rows.length);
      const every = Math.ceil((font + 2) / gap); // with many entries, a label on every few swatches
      rows.forEach((row, i) => {
        const y = box.y + 26 + i * gap;
        ctx.fillStyle = row.colour;
        ctx.fillRect(left, y - gap / 2, 16, Math.max(1, gap - (gap > 6 ? 2 : 0)));
        ctx.fillStyle = "#1B1F24";
        if (i % every === 0) ctx.fillText(row.label, left + 22, y);
      });
      return;
    }
    const bar = this.data.colorbar;
    const top = box.y + 30, height = box.h - 40;
    const grad = ctx.createLinearGradient(0, top + height, 0, top);
    bar.stops.forEach(([at, colour]) => grad.addColorStop(at, colour));
    ctx.fillStyle = grad;
    ctx.fillRect(left, top, 16, height);
    ctx.strokeStyle = "#8A9099";
    ctx.strokeRect(left, top, 16, height);
    ctx.fillStyle = "#1B1F24";
    ctx.fillText(bar.title, left - 4, box.y + 10);
    bar.ticks.forEach(([at, label]) => ctx.fillText(label, left + 22, top + height * (1 - at)));
  }

  drawKey(ctx, x, y, key, font) {
    // one marker key: the symbol as the map draws it, then its label
    if (key.cross) {
      ctx.strokeStyle = "#C00000";
      ctx.lineWidth = 2.5;
      ctx.beginPath();
      ctx.moveTo(x + 4, y - 6); ctx.lineTo(x + 16, y + 6); ctx.moveTo(x + 16, y - 6); ctx.lineTo(x + 4, y + 6);
      ctx.stroke();
    } else {
      symbol(ctx, key.style.symbol, x + 10, y, 5);
      ctx.fillStyle = key.style.fill;
      ctx.fill();
      ctx.lineWidth = 1;
      ctx.strokeStyle = key.style.fill === "#FFFFFF" ? "#111111" : "#8A9099";
      ctx.stroke();
    }
    ctx.fillStyle = "#1B1F24";
    ctx.fillText(key.label, x + 26, y);
  }

  drawLegendBelow(ctx, box, font, top) {
    // a narrow column: the legend's title, then its entries in rows (or the colour bar lying down)
    ctx.fillStyle = "#1B1F24";
    const title = this.data.legend ? this.data.legend_title || "" : this.data.colorbar.title;
    ctx.font = `600 ${font}px sans-serif`;
    ctx.fillText(title, 4, top);
    ctx.font = `${font}px sans-serif`;
    let y = top + font + 10;
    if (this.data.legend) {
      for (const row of this.rowsOf(this.data.legend, box.width, font)) {
        for (const [x, item] of row) {
          ctx.fillStyle = item.colour;
          ctx.fillRect(x, y - 7, 20, 14);
          ctx.fillStyle = "#1B1F24";
          ctx.fillText(item.label, x + 26, y);
        }
        y += font + 10;
      }
      return;
    }
    const bar = this.data.colorbar, left = 60, width = Math.max(80, box.width - 120);
    const grad = ctx.createLinearGradient(left, 0, left + width, 0);
    bar.stops.forEach(([at, colour]) => grad.addColorStop(at, colour));
    ctx.fillStyle = grad;
    ctx.fillRect(left, y - 7, width, 14);
    ctx.fillStyle = "#1B1F24";
    ctx.textAlign = "center";
    bar.ticks.forEach(([at, label]) => ctx.fillText(label, left + width * at, y + font + 2));
    ctx.textAlign = "left";
  }
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  if (!data) return;
  if (!parentElement.__moeMap) parentElement.__moeMap = new LiveMap(parentElement);
  parentElement.__moeMap.update(data, setTriggerValue);
  // Streamlit may call this between updates too; only a map whose element has left the page goes
  return () => setTimeout(() => {
    if (parentElement.isConnected || !parentElement.__moeMap) return;
    parentElement.__moeMap.destroy();
    delete parentElement.__moeMap;
  });
}
