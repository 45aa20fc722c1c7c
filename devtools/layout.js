// What a student at the back of the room cannot read, measured on the page as drawn (one call):
// chart text cut by its chart, a clip path or an ancestor that hides overflow; two texts of one chart
// on top of each other; chart text under MIN_PX; button labels cut; component frames left empty.
// Plotly charts are measured from their SVG text; the routing map (a canvas) by recording every
// fillText of one repaint of it. devtools/layout.py reads the result.
() => {
  const MIN_PX = 14;
  const TOL = 1; // px two glyph boxes must share, or stick out, before it counts (anti-aliasing)
  const PAGE = ".stMainBlockContainer, [data-testid='stSidebarContent'], body"; // page scrollers, not clips

  const pt = (x, y) => ({ x, y });
  const aabb = (q) => {
    const xs = q.map((p) => p.x), ys = q.map((p) => p.y);
    return { left: Math.min(...xs), right: Math.max(...xs), top: Math.min(...ys), bottom: Math.max(...ys) };
  };
  const sticksOut = (box, frame) =>
    Math.max(frame.left - box.left, box.right - frame.right, frame.top - box.top, box.bottom - frame.bottom);
  // separating axes of two convex quads: the least depth they share along any edge normal (<= 0: apart)
  function depth(a, b) {
    let least = Infinity;
    for (const q of [a, b]) {
      for (let i = 0; i < q.length; i++) {
        const p = q[i], r = q[(i + 1) % q.length], len = Math.hypot(r.x - p.x, r.y - p.y) || 1;
        const nx = -(r.y - p.y) / len, ny = (r.x - p.x) / len;
        const pa = a.map((s) => s.x * nx + s.y * ny), pb = b.map((s) => s.x * nx + s.y * ny);
        least = Math.min(least, Math.min(Math.max(...pa), Math.max(...pb)) - Math.max(Math.min(...pa), Math.min(...pb)));
      }
    }
    return least;
  }
  // a one-line text's box from its glyphs' height, not the font's line (digits do not reach the em
  // box's top and bottom, so neighbouring ticks' em boxes touch where their glyphs do not)
  const ruler = document.createElement("canvas").getContext("2d");
  function glyphBox(t, b, text) {
    if (t.querySelector("tspan.line")) return b;
    const s = getComputedStyle(t);
    ruler.font = `${s.fontStyle} ${s.fontWeight} ${s.fontSize} ${s.fontFamily}`;
    const m = ruler.measureText(text), height = m.actualBoundingBoxAscent + m.actualBoundingBoxDescent;
    if (!(height > 0 && height < b.height)) return b;
    return { x: b.x, y: b.y + m.fontBoundingBoxAscent - m.actualBoundingBoxAscent, width: b.width, height };
  }
  const shown = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
  const keyOf = (el) => {
    const host = el.closest("[class*='st-key-']");
    const cls = host ? [...host.classList].find((c) => c.startsWith("st-key-")) : null;
    return cls ? cls.slice(7) : "";
  };

  // the first ancestor that cuts what sticks out of it (overflow not visible), up to the page itself
  function cutBy(el, box) {
    for (let a = el.parentElement; a && !a.matches(PAGE); a = a.parentElement) {
      const s = getComputedStyle(a);
      if (s.overflowX === "visible" && s.overflowY === "visible") continue;
      const r = a.getBoundingClientRect();
      const frame = { left: r.left + a.clientLeft, top: r.top + a.clientTop };
      frame.right = frame.left + a.clientWidth;
      frame.bottom = frame.top + a.clientHeight;
      const out = sticksOut(box, frame);
      if (out > TOL) return `${Math.round(out)} px outside ${a.tagName.toLowerCase()}.${String(a.className.baseVal ?? a.className).split(" ")[0]}`;
    }
    return null;
  }

  // a clip-path (url(#id) to a rect-like clipPath) on an SVG ancestor that hides part of the text
  function clippedByPath(t, box) {
    for (let a = t.parentElement; a && a instanceof SVGElement; a = a.parentElement) {
      const ref = a.getAttribute("clip-path");
      const id = ref && ref.match(/#([^)"']+)/);
      const clip = id && document.getElementById(id[1]);
      const shape = clip && clip.firstElementChild;
      if (!shape || !shape.getBBox) continue;
      const b = shape.getBBox(), m = a.getScreenCTM();
      const corners = [pt(b.x, b.y), pt(b.x + b.width, b.y), pt(b.x + b.width, b.y + b.height), pt(b.x, b.y + b.height)];
      const frame = aabb(corners.map((c) => new DOMPoint(c.x, c.y).matrixTransform(m)));
      const out = sticksOut(box, frame);
      if (out > TOL) return `${Math.round(out)} px outside its clip path (a legend or plot area too small)`;
    }
    return null;
  }

  function problemsOf(texts, frame) {
    const found = [];
    for (const t of texts) {
      const box = aabb(t.quad);
      const out = sticksOut(box, frame);
      const why = out > TOL ? `${Math.round(out)} px outside the chart` : t.clip(box);
      if (why) found.push({ kind: "clipped", text: t.text, detail: why });
      else if (/(\u2026|\.\.\.)$/.test(t.text)) found.push({ kind: "clipped", text: t.text, detail: "shortened" });
      if (t.px < MIN_PX - 0.05) found.push({ kind: "small", text: t.text, detail: `${t.px.toFixed(1)} px` });
    }
    for (let i = 0; i < texts.length; i++) {
      for (let j = i + 1; j < texts.length; j++) {
        const d = depth(texts[i].quad, texts[j].quad);
        if (d > TOL) found.push({ kind: "overlap", text: `${texts[i].text} | ${texts[j].text}`, detail: `${Math.round(d)} px deep` });
      }
    }
    return found;
  }

  function plotly(gd) {
    const texts = [];
    for (const t of gd.querySelectorAll("svg text")) {
      const text = t.textContent.trim();
      if (!text || t.closest(".hoverlayer") || !shown(t) || Number(getComputedStyle(t).opacity) === 0) continue;
      const m = t.getScreenCTM(), em = t.getBBox();
      if (!em.width || !m) continue;
      const b = glyphBox(t, em, text);
      const corners = [pt(b.x, b.y), pt(b.x + b.width, b.y), pt(b.x + b.width, b.y + b.height), pt(b.x, b.y + b.height)];
      const quad = corners.map((c) => new DOMPoint(c.x, c.y).matrixTransform(m));
      const sizes = [t, ...t.querySelectorAll("tspan")].map((e) => parseFloat(getComputedStyle(e).fontSize));
      const px = Math.min(...sizes) * Math.hypot(m.a, m.b);
      texts.push({ text, quad, px, clip: (box) => clippedByPath(t, box) || cutBy(t, box) });
    }
    const svg = gd.querySelector("svg.main-svg");
    const frame = (svg || gd).getBoundingClientRect();
    const title = gd.layout?.title?.text || gd.querySelector(".gtitle")?.textContent || "";
    return { key: keyOf(gd), title, texts: texts.length, problems: problemsOf(texts, frame) };
  }

  // every text one repaint of the map draws, with its box in page pixels
  function canvasTexts(map) {
    const ctx = map.canvas.getContext("2d"), drawn = [];
    const rect = map.canvas.getBoundingClientRect(), ratio = map.canvas.width / (rect.width || 1);
    ctx.fillText = function (text, x, y) {
      const m = ctx.measureText(text), t = ctx.getTransform();
      const corners = [
        pt(x - m.actualBoundingBoxLeft, y - m.actualBoundingBoxAscent), pt(x + m.actualBoundingBoxRight, y - m.actualBoundingBoxAscent),
        pt(x + m.actualBoundingBoxRight, y + m.actualBoundingBoxDescent), pt(x - m.actualBoundingBoxLeft, y + m.actualBoundingBoxDescent),
      ];
      const quad = corners.map((c) => {
        const p = t.transformPoint(new DOMPoint(c.x, c.y));
        return pt(rect.left + p.x / ratio, rect.top + p.y / ratio);
      });
      const px = parseFloat((ctx.font.match(/([\d.]+)px/) || [0, 0])[1]) * Math.hypot(t.a, t.b) / ratio;
      if (String(text).trim()) drawn.push({ text: String(text), quad, px, clip: (box) => cutBy(map.canvas, box) });
      return CanvasRenderingContext2D.prototype.fillText.call(ctx, text, x, y);
    };
    try { map.draw(); } finally { delete ctx.fillText; }
    return { drawn, frame: rect };
  }

  function routingMap(root) {
    const map = root.parentElement.__moeMap;
    if (!map || !map.data) return { key: keyOf(root), title: "routing map", texts: 0, problems: [{ kind: "undrawn", text: "", detail: "no map state" }] };
    const { drawn, frame } = canvasTexts(map);
    const problems = problemsOf(drawn, frame);
    const said = drawn.map((t) => t.text);
    const d = map.data;
    const wanted = d.legend ? d.legend.map((row) => row.label) : [d.colorbar.title, ...d.colorbar.ticks.map((t) => t[1])];
    for (const label of wanted) {
      if (!said.includes(label)) problems.push({ kind: "clipped", text: label, detail: "legend entry not drawn" });
    }
    const legendCount = (name) => wanted.filter((w) => w === name).length;
    const unnamed = (d.classes || []).filter((c) => said.filter((s) => s === c.name).length <= legendCount(c.name));
    if (d.points && d.points.x.length && unnamed.length) {
      problems.push({ kind: "legend", text: unnamed.map((c) => c.name).join(", "), detail: "markers without a legend" });
    }
    return { key: keyOf(root), title: d.title || "routing map", texts: drawn.length, problems };
  }

  function buttons() {
    const cut = [];
    for (const b of document.querySelectorAll("button")) {
      const r = b.getBoundingClientRect();
      if (!shown(b) || r.width === 0 || r.right <= 0 || r.left >= innerWidth) continue; // hidden, or the closed sidebar
      const label = b.querySelector("[data-testid='stMarkdownContainer']"); // icon-only buttons have none
      const text = label ? label.innerText.trim() : "";
      if (!text) continue;
      const lr = label.getBoundingClientRect();
      const inner = [label, ...label.querySelectorAll("*")].some((e) => e.clientWidth && e.scrollWidth > e.clientWidth + 1);
      if (inner || b.scrollWidth > b.clientWidth + 1) cut.push({ kind: "button", text, detail: "label wider than its box" });
      else if (lr.right > r.right + 1 || lr.left < r.left - 1) cut.push({ kind: "button", text, detail: "label outside the button" });
      else if (r.right > innerWidth + 1) cut.push({ kind: "button", text, detail: "past the window's right edge" });
      else if (cutBy(b, r)) cut.push({ kind: "button", text, detail: cutBy(b, r) });
    }
    return cut;
  }

  // component frames with room for a chart and nothing drawn in them (a chart that never mounted)
  function undrawn() {
    return [...document.querySelectorAll(".stBidiComponent")]
      .filter((c) => c.clientHeight > 60 && !c.querySelector("svg.main-svg text, .moe-map canvas"))
      .map((c) => ({ kind: "undrawn", text: keyOf(c), detail: `${c.clientHeight} px frame, nothing drawn` }));
  }

  const charts = [...document.querySelectorAll(".js-plotly-plot")].filter(shown).map(plotly);
  charts.push(...[...document.querySelectorAll(".moe-map")].filter(shown).map(routingMap));
  charts.push({ key: "", title: "page", texts: 0, problems: [...buttons(), ...undrawn()] });
  return { viewport: [innerWidth, innerHeight], charts };
}
