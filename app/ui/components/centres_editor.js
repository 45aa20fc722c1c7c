// The drawn dataset's centres on the plane [-limit, limit]^2, edited in place: a click on empty space adds
// a centre of the class the toggle picks (with Shift, of the other), a drag moves one, a double-click or a
// right-click deletes one. Each edit sends the centres as text ("x,y,class;...", two decimals, as
// moe_core/datasets/centres.py writes them) as the trigger "change". Data: {text (null while the text
// field holds no valid centres), limit, spread, max}.
// The markers are the routing map's (class 0 a white circle, class 1 a black square), the number beside
// each its cluster (the heatmap's column); the dashed ring is where most of its points fall (2 std).

const REACH = 12; // pixels within which a press takes a centre
const MARK = 8;
const FONT = "14px 'Source Sans Pro', sans-serif";

function parse(text) {
  return text.split(";").filter((part) => part.trim()).map((part) => part.split(",").map(Number));
}

function number(v) {
  return String(Number(v.toFixed(2)) + 0); // + 0: no "-0"
}

function write(centres) {
  return centres.map(([x, y, c]) => `${number(x)},${number(y)},${c}`).join(";");
}

class Editor {
  constructor(parent) {
    this.root = document.createElement("div");
    this.root.className = "moe-centres";
    this.bar = document.createElement("div");
    this.bar.style.cssText = "display:flex;flex-wrap:wrap;gap:6px;align-items:center;margin-bottom:6px;font:" + FONT;
    this.bar.setAttribute("role", "group");
    this.bar.setAttribute("aria-label", "Class of a new centre");
    this.buttons = [0, 1].map((c) => {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = c === 0 ? "○ class 0" : "■ class 1";
      b.style.cssText = "font:" + FONT + ";padding:2px 8px;border-radius:6px;cursor:pointer;border:1px solid #888;"
        + "white-space:nowrap";
      b.addEventListener("click", () => { this.cls = c; this.paintButtons(); });
      return b;
    });
    this.bar.append(...this.buttons);
    this.canvas = document.createElement("canvas");
    this.canvas.style.cssText = "display:block;touch-action:none;cursor:crosshair;border-radius:4px";
    this.root.append(this.bar, this.canvas);
    parent.appendChild(this.root);
    this.cls = 0;
    this.centres = [];
    this.sent = []; // texts sent and not yet come back: an older echo must not undo a newer edit
    this.press = null;
    this.paintButtons();
    this.listen();
    this.resizer = new ResizeObserver(() => this.draw());
    this.resizer.observe(this.root);
  }

  paintButtons() {
    this.buttons.forEach((b, c) => {
      b.style.background = c === this.cls ? "#1f77b4" : "transparent";
      b.style.color = c === this.cls ? "#fff" : "inherit";
      b.setAttribute("aria-pressed", String(c === this.cls));
    });
  }

  update(data) {
    this.limit = data.limit;
    this.spread = data.spread;
    this.max = data.max;
    if (data.text === null) { this.draw(); return; } // the text field holds no centres: keep the drawing
    const echo = this.sent.indexOf(data.text);
    if (echo >= 0) this.sent = this.sent.slice(echo + 1);
    if (echo < 0 || this.sent.length === 0) {
      if (echo < 0) this.sent = [];
      if (!this.press) this.centres = parse(data.text);
    }
    this.draw();
  }

  side() {
    return Math.max(120, this.root.clientWidth);
  }

  toPixel(x, y) {
    const s = this.side(), L = this.limit;
    return [((x + L) / (2 * L)) * s, ((L - y) / (2 * L)) * s];
  }

  toData(px, py) {
    const s = this.side(), L = this.limit;
    const clamp = (v) => Math.max(-L, Math.min(L, v));
    return [clamp((px / s) * 2 * L - L), clamp(L - (py / s) * 2 * L)];
  }

  at(event) {
    const rect = this.canvas.getBoundingClientRect();
    const px = event.clientX - rect.left, py = event.clientY - rect.top;
    let best = -1, bestDistance = REACH;
    this.centres.forEach(([x, y], i) => {
      const [qx, qy] = this.toPixel(x, y);
      const d = Math.hypot(qx - px, qy - py);
      if (d < bestDistance) { best = i; bestDistance = d; }
    });
    return { px, py, index: best };
  }

  send() {
    const text = write(this.centres);
    this.sent.push(text);
    this.root.dataset.centres = text;
    this.emit(text);
    this.draw();
  }

  remove(event) {
    const hit = this.at(event);
    if (hit.index < 0 || this.centres.length <= 1) return; // a dataset needs one centre at least
    this.centres.splice(hit.index, 1);
    this.send();
  }

  listen() {
    const c = this.canvas;
    c.addEventListener("pointerdown", (event) => {
      if (event.button !== 0) return;
      const hit = this.at(event);
      this.press = { ...hit, moved: false };
      c.setPointerCapture(event.pointerId);
    });
    c.addEventListener("pointermove", (event) => {
      const press = this.press;
      if (!press || press.index < 0) return;
      const hit = this.at(event);
      if (Math.hypot(hit.px - press.px, hit.py - press.py) > 3) press.moved = true;
      if (!press.moved) return;
      const [x, y] = this.toData(hit.px, hit.py);
      this.centres[press.index] = [x, y, this.centres[press.index][2]];
      this.draw();
    });
    c.addEventListener("pointerup", (event) => {
      const press = this.press;
      this.press = null;
      if (!press) return;
      if (press.index >= 0) {
        if (press.moved) this.send();
        return;
      }
      if (this.centres.length >= this.max) return;
      const [x, y] = this.toData(press.px, press.py);
      this.centres.push([x, y, event.shiftKey ? 1 - this.cls : this.cls]);
      this.send();
    });
    c.addEventListener("dblclick", (event) => this.remove(event));
    c.addEventListener("contextmenu", (event) => { event.preventDefault(); this.remove(event); });
  }

  draw() {
    if (this.limit === undefined) return;
    const s = this.side(), ratio = window.devicePixelRatio || 1;
    if (this.canvas.width !== Math.round(s * ratio)) {
      this.canvas.width = this.canvas.height = Math.round(s * ratio);
      this.canvas.style.width = this.canvas.style.height = `${s}px`;
    }
    const ctx = this.canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.fillStyle = "#f3f4f6";
    ctx.fillRect(0, 0, s, s);
    for (let v = -this.limit; v <= this.limit; v++) {
      const [gx, gy] = this.toPixel(v, v);
      ctx.strokeStyle = v === 0 ? "#9ca3af" : "#e0e2e6";
      ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(gx, 0); ctx.lineTo(gx, s); ctx.moveTo(0, gy); ctx.lineTo(s, gy); ctx.stroke();
    }
    const ring = (2 * this.spread / (2 * this.limit)) * s;
    ctx.font = FONT;
    this.centres.forEach(([x, y, c], i) => {
      const [px, py] = this.toPixel(x, y);
      ctx.setLineDash([4, 4]);
      ctx.strokeStyle = "#6b7280";
      ctx.beginPath(); ctx.arc(px, py, ring, 0, 2 * Math.PI); ctx.stroke();
      ctx.setLineDash([]);
      ctx.beginPath();
      if (c === 1) ctx.rect(px - MARK * 0.85, py - MARK * 0.85, MARK * 1.7, MARK * 1.7);
      else ctx.arc(px, py, MARK, 0, 2 * Math.PI);
      ctx.fillStyle = c === 1 ? "#111111" : "#ffffff";
      ctx.strokeStyle = c === 1 ? "#ffffff" : "#111111";
      ctx.lineWidth = 2;
      ctx.fill(); ctx.stroke();
      ctx.fillStyle = "#111111";
      ctx.fillText(String(i), px + MARK + 3, py - MARK);
    });
    this.root.dataset.centres = write(this.centres);
    this.root.dataset.drawn = String(Number(this.root.dataset.drawn || 0) + 1);
  }
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  if (!data) return;
  let editor = parentElement.__moeCentres;
  if (!editor) editor = parentElement.__moeCentres = new Editor(parentElement);
  editor.emit = (text) => setTriggerValue("change", text);
  editor.update(data);
}
