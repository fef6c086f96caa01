// Live Plotly chart for Streamlit components v2 (see live_plot.py for the wire format).
// Streamlit calls the default export whenever `data` changes, with the same parentElement
// while the element stays mounted. The first call draws with Plotly.newPlot; later calls
// patch the cached figure and call Plotly.react on the same node, so there is no flicker
// and zoom survives (layout.uirevision).
//
// Python sends the figure spec and each array only when they change, and the frontend
// may skip a frame's data when frames arrive faster than React commits. Every frame
// therefore names the digests of everything the chart should show; whatever is missing
// or stale here is asked for again through the "resync" trigger (at most once a second).
//
// Canvas traces (data.canvas) are painted here on a canvas above Plotly's plot area and
// below its WebGL points: a change to them repaints in a few ms with no Plotly draw.
// Frames (data.frames) are played back on that canvas at the pace they were taken.

const RESYNC_AFTER_MS = 1000;
// Playback runs a little behind the newest frame, so a late message does not stall it;
// behind more than TARGET_LAG it plays CATCH_UP times faster; behind more than MAX_LAG
// it skips ahead to TARGET_LAG.
const PLAYBACK_MAX_LAG_S = 1.2;
const PLAYBACK_TARGET_LAG_S = 0.4;
const PLAYBACK_CATCH_UP = 1.25;
const MAX_QUEUED_FRAMES = 120;
// Plotly gets the canvas traces' latest arrays (for hover) once no frame came this long.
const REST_SYNC_MS = 600;
// Words for screen readers: the live region reads the run's progress at most this often
// (never every picture); a stop, a pause or a description is read at once.
const SAY_EVERY_MS = 5000;
// With prefers-reduced-motion the pictures change at most this often, with no playback.
const CALM_MS = 1000;
const SR_ONLY = {
  position: "absolute", width: "1px", height: "1px", padding: "0", margin: "-1px",
  overflow: "hidden", clip: "rect(0, 0, 0, 0)", whiteSpace: "nowrap", border: "0",
};
// Everything per user key: the figure, its arrays and its DOM node, kept across remounts
// (a page switch, a full rerun) so the same node is moved back instead of redrawn.
const charts = new Map();

let plotlyLoading = null;

function loadPlotly(url) {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!plotlyLoading) {
    plotlyLoading = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = url;
      script.async = true;
      script.onload = () => resolve(window.Plotly);
      script.onerror = () => {
        plotlyLoading = null; // let a later frame retry
        reject(new Error(`live_plot: cannot load Plotly from ${url}`));
      };
      document.head.appendChild(script);
    });
  }
  return plotlyLoading;
}

function base64Bytes(b64) {
  const text = atob(b64);
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

// <trace-signs> (a browser test runs this block against grid_bends.sign_segments)
// Marching squares over one unit's signs on an n x n grid over box [x0, x1, y0, y1]:
// a segment between the midpoints of the crossed edges of each cell (a saddle, all four
// edges crossed, gets bottom-right and top-left): grid_bends.sign_segments. Segments
// that share an edge are joined into polylines, so a layer's dashes run on unbroken.
// Appends each polyline's points to x and y, then a NaN gap (paintLines' format).
function traceSigns(bits, offset, n, box, x, y) {
  const [x0, x1, y0, y1] = box;
  const dx = (x1 - x0) / (n - 1);
  const dy = (y1 - y0) / (n - 1);
  const at = (r, c) => bits[offset + r * n + c];
  // Grid edges by number: (r, c) -> (r, c + 1) is r * n + c; (r, c) -> (r + 1, c) is
  // n * n + r * n + c. A cell's bottom, right, top and left edges:
  const edge = (r, c, e) =>
    [r * n + c, n * n + r * n + c + 1, (r + 1) * n + c, n * n + r * n + c][e];
  const ends = []; // per segment: the two edges it joins
  const link = new Map(); // edge -> the (one or two) segments through it
  const add = (a, b) => {
    for (const id of [a, b]) {
      if (link.has(id)) link.get(id).push(ends.length);
      else link.set(id, [ends.length]);
    }
    ends.push([a, b]);
  };
  for (let r = 0; r + 1 < n; r++) {
    for (let c = 0; c + 1 < n; c++) {
      const k0 = at(r, c);
      if (at(r, c + 1) === k0 && at(r + 1, c + 1) === k0 && at(r + 1, c) === k0) continue;
      const k = [k0, at(r, c + 1), at(r + 1, c + 1), at(r + 1, c)];
      const crossed = [];
      for (let e = 0; e < 4; e++) if (k[e] !== k[(e + 1) % 4]) crossed.push(e);
      add(edge(r, c, crossed[0]), edge(r, c, crossed[1]));
      if (crossed.length === 4) add(edge(r, c, 2), edge(r, c, 3));
    }
  }
  const point = (id) => {
    const vertical = id >= n * n;
    const i = vertical ? id - n * n : id;
    const r = Math.floor(i / n);
    const c = i % n;
    x.push(x0 + (c + (vertical ? 0 : 0.5)) * dx);
    y.push(y0 + (r + (vertical ? 0.5 : 0)) * dy);
  };
  const used = new Uint8Array(ends.length);
  const walk = (first, from) => {
    point(from);
    for (let s = first; s !== undefined; ) {
      used[s] = 1;
      const to = ends[s][0] === from ? ends[s][1] : ends[s][0];
      point(to);
      from = to;
      s = link.get(to).find((t) => !used[t]);
    }
    x.push(NaN);
    y.push(NaN);
  };
  // Open lines start where they meet the grid's border; what is left are closed loops.
  for (const [id, segs] of link) if (segs.length === 1 && !used[segs[0]]) walk(segs[0], id);
  for (let s = 0; s < ends.length; s++) if (!used[s]) walk(s, ends[s][0]);
  return { x, y };
}

// A "b1" array (encode_signs): each unit's sign bits, 8 to a byte, first in the top
// bit, each unit starting on a new byte.
function decodeSigns(enc) {
  const raw = atob(enc.b64);
  const [units, n] = enc.shape;
  const per = n * n;
  const stride = Math.ceil(per / 8);
  const bits = new Uint8Array(units * per);
  for (let u = 0; u < units; u++) {
    for (let i = 0; i < per; i++) {
      bits[u * per + i] = (raw.charCodeAt(u * stride + (i >> 3)) >> (7 - (i & 7))) & 1;
    }
  }
  return { bits, shape: enc.shape, box: enc.box };
}

// Every unit's traced bends of one "b1" array, joined (computed once per array).
function signLines(signs) {
  if (!signs.lines) {
    const { bits, shape, box } = signs;
    const [units, n] = shape;
    const x = [];
    const y = [];
    for (let u = 0; u < units; u++) traceSigns(bits, u * n * n, n, box, x, y);
    signs.lines = { x: Float32Array.from(x), y: Float32Array.from(y) };
  }
  return signs.lines;
}
// </trace-signs>

// Mirror of encode_grid / encode_floats / encode_signs: "f4" raw float32, "u1"/"u2"
// quantised with the top code meaning NaN and codes 0..top-1 spread evenly over
// [lo, hi]; "b1" sign bits, 8 to a byte, first in the top bit.
function decodeArray(enc) {
  if (enc.dtype === "b1") return decodeSigns(enc);
  const raw = base64Bytes(enc.b64);
  let flat;
  if (enc.dtype === "f4") {
    flat = new Float32Array(raw.buffer);
  } else {
    const codes = enc.dtype === "u1" ? raw : new Uint16Array(raw.buffer);
    const top = enc.dtype === "u1" ? 255 : 65535;
    const step = (enc.hi - enc.lo) / (top - 1);
    flat = new Float32Array(codes.length);
    for (let i = 0; i < codes.length; i++) {
      flat[i] = codes[i] === top ? NaN : enc.lo + codes[i] * step;
    }
  }
  if (enc.shape.length !== 2) return flat;
  const [rows, cols] = enc.shape;
  // Plotly takes a 2D grid as an array of rows; subarrays share one buffer.
  return Array.from({ length: rows }, (_, r) => flat.subarray(r * cols, (r + 1) * cols));
}

// Copy-on-write set of a dotted property path, so the cached spec stays pristine.
function withValue(obj, keys, value) {
  const copy = { ...obj };
  copy[keys[0]] =
    keys.length === 1 ? value : withValue(obj[keys[0]] ?? {}, keys.slice(1), value);
  return copy;
}

// Streamlit sets plotly's default template to "streamlit", whose colors are placeholders
// "#000001".."#000040" that st.plotly_chart swaps for theme colors in the browser. We do
// the same from the components-v2 theme variables (--st-*), with plotly's colors where a
// variable is missing, and fill the background and font the figure leaves unset.
const PLOTLY_CATEGORICAL = "#636efa,#EF553B,#00cc96,#ab63fa,#FFA15A,#19d3f3,#FF6692,#B6E880,#FF97FF,#FECB52";
const PLOTLY_SEQUENTIAL = "#0d0887,#46039f,#7201a8,#9c179e,#bd3786,#d8576b,#ed7953,#fb9f3a,#fdca26,#f0f921";
// ColorBrewer RdBu, 11 steps: the theme has no diverging scale.
const DIVERGING = "#67001f,#b2182b,#d6604d,#f4a582,#fddbc7,#f7f7f7,#d1e5f0,#92c5de,#4393c3,#2166ac,#053061";

function readTheme(el) {
  const css = getComputedStyle(el);
  const get = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
  const list = (name, fallback) => get(name, fallback).split(",").map((c) => c.trim());
  const theme = {
    categorical: list("--st-chart-categorical-colors", PLOTLY_CATEGORICAL),
    sequential: list("--st-chart-sequential-colors", PLOTLY_SEQUENTIAL),
    diverging: DIVERGING.split(","),
    green: get("--st-green-color", "#079464"),
    red: get("--st-red-color", "#D94A57"),
    blue: get("--st-blue-color", "#3B82F6"),
    gray: get("--st-gray-color", "#6B7280"),
    text: get("--st-text-color", "#31333F"),
    background: get("--st-background-color", "#FFFFFF"),
    secondary: get("--st-secondary-background-color", "#F0F2F6"),
    faint: get("--st-border-color-light", "rgba(49, 51, 63, 0.1)"),
    font: get("--st-font", "sans-serif"),
  };
  theme.signature = JSON.stringify(theme);
  return theme;
}

function placeholderColor(n, t) {
  if (n >= 1 && n <= 10) return t.categorical[(n - 1) % t.categorical.length];
  if (n >= 11 && n <= 20) return t.sequential[Math.min(n - 11, t.sequential.length - 1)];
  if (n >= 21 && n <= 31) return t.diverging[n - 21];
  const named = { 32: t.green, 33: t.red, 34: t.blue, 35: t.gray, 36: t.gray, 37: t.text };
  return named[n] ?? { 38: t.background, 39: t.faint, 40: t.secondary }[n];
}

function themedFigure(json, t) {
  const fig = JSON.parse(
    json.replace(/"#0000(\d\d)"/g, (match, n) => {
      const color = placeholderColor(Number(n), t);
      return color ? JSON.stringify(color) : match;
    }),
  );
  fig.layout ??= {};
  const own = fig.layout;
  const template = own.template?.layout ?? {};
  own.paper_bgcolor ??= template.paper_bgcolor ?? t.background;
  own.plot_bgcolor ??= template.plot_bgcolor ?? t.background;
  own.font = {
    color: template.font?.color ?? t.text,
    family: template.font?.family ?? t.font,
    ...own.font,
  };
  return fig;
}

function buildFigure(chart) {
  const traces = chart.fig.data.slice();
  for (const [path, { value }] of chart.arrays) {
    const [index, ...keys] = path.split(".");
    if (keys[0] === "signs") continue; // the canvas traces them; Plotly has no such key
    if (traces[index]) traces[index] = withValue(traces[index], keys, value);
  }
  chart.revision += 1;
  chart.restDirty = false;
  chart.hoverMuted = false; // the spec's hoverinfo comes back with this draw
  const layout = {
    ...chart.fig.layout,
    height: chart.height,
    autosize: true,
    // Fresh arrays every frame; datarevision tells Plotly.react to redraw them,
    // uirevision keeps the user's zoom, pan and legend clicks across frames.
    datarevision: chart.revision,
    uirevision: chart.fig.layout?.uirevision ?? chart.key,
  };
  return { traces, layout };
}

function scheduleDraw(chart) {
  chart.dirty = true;
  if (chart.busy) return;
  chart.busy = true;
  drawLoop(chart);
}

// One draw loop per chart, so newPlot finishes before the first react and bursts of
// frames coalesce to at most one draw per animation frame (a hidden tab draws none).
async function drawLoop(chart) {
  try {
    const Plotly = await loadPlotly(chart.lib);
    while (chart.dirty && chart.root.isConnected) {
      chart.dirty = false;
      const { traces, layout } = buildFigure(chart);
      const config = { displaylogo: false, ...chart.fig.config };
      const start = performance.now();
      if (chart.frames === 0) {
        await Plotly.newPlot(chart.div, traces, layout, config);
        // Zoom, pan, legend clicks and resizes redraw without us: follow them.
        for (const event of ["plotly_afterplot", "plotly_restyle", "plotly_relayout"]) {
          chart.div.on(event, () => schedulePaint(chart));
        }
        bindClicks(chart);
      } else await Plotly.react(chart.div, traces, layout, config);
      chart.root.dataset.drawMs = (performance.now() - start).toFixed(1);
      chart.frames += 1;
      chart.root.dataset.frames = String(chart.frames);
      chart.root.dataset.spec = chart.spec;
      paintCanvas(chart);
      await new Promise((resolve) => requestAnimationFrame(resolve));
    }
  } catch (err) {
    chart.root.dataset.error = String(err);
    console.error(err);
  } finally {
    chart.busy = false;
  }
}

// ---- canvas layer ---------------------------------------------------------------

function axisOf(full, ref, letter) {
  return full[`${letter}axis${(ref ?? letter).slice(1)}`];
}

// Plotly's dash patterns (src/components/drawing dashStyle), in px for a line width.
function dashPattern(dash, width) {
  const d = Math.max(width, 3);
  const named = {
    solid: [],
    dot: [d, d],
    dash: [3 * d, 3 * d],
    longdash: [5 * d, 5 * d],
    dashdot: [3 * d, d, d, d],
    longdashdot: [5 * d, 2 * d, d, 2 * d],
  };
  if (named[dash]) return named[dash];
  return String(dash ?? "").split(/[ ,]+/).map(parseFloat).filter((v) => v >= 0);
}

let colorProbe = null;
function rgbOf(color) {
  colorProbe ??= document.createElement("canvas").getContext("2d");
  colorProbe.clearRect(0, 0, 1, 1);
  colorProbe.fillStyle = "#000";
  colorProbe.fillStyle = color;
  colorProbe.fillRect(0, 0, 1, 1);
  const [r, g, b, a] = colorProbe.getImageData(0, 0, 1, 1).data;
  return [r, g, b, a / 255];
}

// 256 RGBA colours over [zmin, zmax], interpolated in RGB as Plotly does, blended
// with the plot background at the trace's opacity (the canvas is opaque there).
function colourTable(trace, background) {
  const scale = trace.colorscale.map(([at, c]) => [Number(at), rgbOf(c)]);
  const bg = rgbOf(background);
  const alpha = trace.opacity ?? 1;
  const table = new Uint8ClampedArray(256 * 4);
  for (let k = 0; k < 256; k++) {
    const f = k / 255;
    let j = 1;
    while (j < scale.length - 1 && scale[j][0] < f) j++;
    const [a0, c0] = scale[j - 1];
    const [a1, c1] = scale[j];
    const w = a1 > a0 ? Math.min(1, Math.max(0, (f - a0) / (a1 - a0))) : 1;
    for (let ch = 0; ch < 3; ch++) {
      const c = c0[ch] + w * (c1[ch] - c0[ch]);
      table[4 * k + ch] = alpha * c + (1 - alpha) * bg[ch];
    }
    table[4 * k + 3] = 255;
  }
  return table;
}

function paintHeatmap(ctx, chart, index, trace, z, xa, ya, background) {
  const rows = z.length;
  const cols = rows ? z[0].length : 0;
  if (!rows || !cols) return;
  const key = `${index}|${background}|${trace.zmin}|${trace.zmax}|${trace.opacity}|${JSON.stringify(trace.colorscale)}`;
  let cache = chart.tables.get(index);
  if (!cache || cache.key !== key) {
    cache = { key, table: colourTable(trace, background) };
    chart.tables.set(index, cache);
  }
  const table = cache.table;
  const image = new ImageData(cols, rows);
  const px = image.data;
  const lo = trace.zmin;
  const scale = trace.zmax > lo ? 255 / (trace.zmax - lo) : 0;
  for (let r = 0; r < rows; r++) {
    const row = z[rows - 1 - r]; // the image's top row is the largest y
    for (let c = 0; c < cols; c++) {
      const v = row[c];
      const o = 4 * (r * cols + c);
      if (!Number.isFinite(v)) continue; // transparent, like Plotly's gaps
      const k = 4 * Math.min(255, Math.max(0, Math.round((v - lo) * scale)));
      px[o] = table[k];
      px[o + 1] = table[k + 1];
      px[o + 2] = table[k + 2];
      px[o + 3] = 255;
    }
  }
  chart.scratch ??= document.createElement("canvas");
  chart.scratch.width = cols;
  chart.scratch.height = rows;
  chart.scratch.getContext("2d").putImageData(image, 0, 0);
  // Cells are centred on the trace's x and y, as Plotly draws them.
  const xs = trace.x ?? [0, cols - 1];
  const ys = trace.y ?? [0, rows - 1];
  const dx = cols > 1 ? (xs[cols - 1] - xs[0]) / (cols - 1) : 1;
  const dy = rows > 1 ? (ys[rows - 1] - ys[0]) / (rows - 1) : 1;
  const left = xa._offset + xa.c2p(xs[0] - dx / 2);
  const right = xa._offset + xa.c2p(xs[cols - 1] + dx / 2);
  const top = ya._offset + ya.c2p(ys[rows - 1] + dy / 2);
  const bottom = ya._offset + ya.c2p(ys[0] - dy / 2);
  ctx.imageSmoothingEnabled = trace.zsmooth !== false;
  ctx.drawImage(chart.scratch, left, top, right - left, bottom - top);
}

function paintLines(ctx, trace, x, y, xa, ya) {
  const line = trace.line ?? {};
  const width = line.width ?? 2;
  ctx.globalAlpha = trace.opacity ?? 1;
  ctx.strokeStyle = line.color ?? "#000";
  ctx.lineWidth = width;
  ctx.lineJoin = "round";
  ctx.setLineDash(dashPattern(line.dash, width));
  ctx.beginPath();
  let pen = false;
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]) || !Number.isFinite(y[i])) {
      pen = false;
      continue;
    }
    const px = xa._offset + xa.c2p(x[i]);
    const py = ya._offset + ya.c2p(y[i]);
    if (pen) ctx.lineTo(px, py);
    else ctx.moveTo(px, py);
    pen = true;
  }
  ctx.stroke();
  ctx.globalAlpha = 1;
  ctx.setLineDash([]);
}

// The canvas sits in Plotly's .svg-container right under the WebGL points (or the
// info layer), over the main SVG: above the heatmap and lines Plotly drew, below
// markers, legend and hover labels; it never takes the mouse.
function canvasLayer(chart) {
  const container = chart.div.querySelector(".svg-container");
  if (!container) return null;
  let canvas = chart.canvas;
  if (!canvas) {
    canvas = document.createElement("canvas");
    canvas.className = "live-plot-canvas";
    Object.assign(canvas.style, {
      position: "absolute",
      left: "0px",
      top: "0px",
      pointerEvents: "none",
    });
    chart.canvas = canvas;
  }
  if (canvas.parentNode !== container) {
    const above = container.querySelector(":scope > .gl-container");
    const svgs = container.querySelectorAll(":scope > svg.main-svg");
    container.insertBefore(canvas, above ?? svgs[1] ?? null);
  }
  return canvas;
}

function canvasValue(chart, index, prop, trace) {
  const path = `${index}.${prop}`;
  if (chart.shown?.has(path)) return chart.shown.get(path);
  return chart.arrays.get(path)?.value ?? trace[prop];
}

function paintCanvas(chart) {
  const gd = chart.div;
  const full = gd._fullLayout;
  if (!chart.canvasTraces.length || !full || !gd._fullData) return;
  const canvas = canvasLayer(chart);
  if (!canvas) return;
  const start = performance.now();
  const ratio = window.devicePixelRatio || 1;
  const [w, h] = [full.width, full.height];
  if (canvas.width !== Math.round(w * ratio) || canvas.height !== Math.round(h * ratio)) {
    canvas.width = Math.round(w * ratio);
    canvas.height = Math.round(h * ratio);
    canvas.style.width = `${w}px`;
    canvas.style.height = `${h}px`;
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, w, h);
  const background = full.plot_bgcolor ?? "#fff";
  let labelAt = null;
  for (const index of chart.canvasTraces) {
    const trace = gd._fullData[index];
    if (!trace || trace.visible !== true) continue;
    const xa = axisOf(full, trace.xaxis, "x");
    const ya = axisOf(full, trace.yaxis, "y");
    if (!xa?.c2p || !ya?.c2p) continue;
    ctx.save();
    ctx.beginPath();
    ctx.rect(xa._offset, ya._offset, xa._length, ya._length);
    ctx.clip();
    if (trace.type === "heatmap") {
      const z = canvasValue(chart, index, "z", trace);
      if (z) paintHeatmap(ctx, chart, index, trace, z, xa, ya, background);
    } else {
      const x = canvasValue(chart, index, "x", trace);
      const y = canvasValue(chart, index, "y", trace);
      if (x && y) paintLines(ctx, trace, x, y, xa, ya);
      const signs = canvasValue(chart, index, "signs", trace);
      if (signs?.bits) {
        const lines = signLines(signs);
        paintLines(ctx, trace, lines.x, lines.y, xa, ya);
      }
    }
    ctx.restore();
    labelAt ??= [xa._offset + xa._length, ya._offset];
  }
  const label = chart.note || chart.label; // a note from the server wins over the epoch
  if (label && labelAt) {
    // Above the plot's top right corner, in the margin: it never hides data.
    ctx.font = `12px ${full.font?.family ?? "sans-serif"}`;
    ctx.textAlign = "right";
    ctx.textBaseline = "bottom";
    ctx.fillStyle = full.font?.color ?? "#333";
    ctx.fillText(label, labelAt[0], labelAt[1] - 4);
  }
  chart.paints += 1;
  chart.root.dataset.paints = String(chart.paints);
  chart.root.dataset.label = label;
  chart.root.dataset.paintMs = (performance.now() - start).toFixed(1);
}

function schedulePaint(chart) {
  if (chart.paintPending) return;
  chart.paintPending = true;
  requestAnimationFrame(() => {
    chart.paintPending = false;
    paintCanvas(chart);
  });
}

// ---- playback -------------------------------------------------------------------

// Queues the frames not seen yet; returns the last frame's arrays. A frame sends only
// what changed since the frame before: the rest carries over, starting from `base`
// (what the chart held before this message).
function enqueueFrames(chart, frames, base) {
  let last = base;
  for (const frame of frames) {
    last = new Map(last);
    for (const [path, enc] of Object.entries(frame.arrays)) last.set(path, decodeArray(enc));
    if (frame.seq <= chart.lastSeq) continue;
    chart.lastSeq = frame.seq;
    chart.queue.push({ t: frame.t, label: frame.label, values: last });
    if (chart.queue.length > MAX_QUEUED_FRAMES) {
      chart.queue.shift(); // a hidden tab
      chart.dropped += 1;
    }
    chart.received += 1;
  }
  countFrames(chart);
  muteStaleHover(chart);
  if (!chart.playing && chart.queue.length) {
    chart.playing = true;
    requestAnimationFrame((now) => playback(chart, now));
  }
  syncAtRest(chart);
  return last;
}

// While frames play, Plotly's copy of a canvas heatmap is old: its hover would show
// old values, so it is off until the draw at rest brings the spec's hover back.
function muteStaleHover(chart) {
  if (chart.hoverMuted || chart.busy || !chart.frames || !window.Plotly) return;
  const heatmaps = chart.canvasTraces.filter((i) => chart.fig?.data[i]?.type === "heatmap");
  if (!heatmaps.length) return;
  chart.hoverMuted = true;
  window.Plotly.restyle(chart.div, { hoverinfo: "skip", hovertemplate: "" }, heatmaps);
}

// Once frames stop, Plotly gets the canvas traces' latest arrays (hover reads them).
function syncAtRest(chart) {
  chart.restDirty = true;
  clearTimeout(chart.restTimer);
  chart.restTimer = setTimeout(() => {
    if (!chart.queue.length && !chart.playing && chart.restDirty) scheduleDraw(chart);
  }, REST_SYNC_MS);
}

// What became of every frame, for the tests: received = played + queued + dropped.
function countFrames(chart) {
  const d = chart.root.dataset;
  d.received = String(chart.received);
  d.played = String(chart.played);
  d.queued = String(chart.queue.length);
  d.dropped = String(chart.dropped);
}

// Shows the frames whose time has come; the clock stands still while the queue is
// empty, so a late message delays the pictures instead of skipping them.
function playback(chart, now) {
  const queue = chart.queue;
  if (!queue.length || !chart.root.isConnected) {
    chart.playing = false;
    chart.clockAt = null;
    return;
  }
  if (!chart.frames) {
    // Plotly has not drawn the axes yet: nothing can be shown, so the clock waits.
    chart.clockAt = null;
    requestAnimationFrame((t) => playback(chart, t));
    return;
  }
  const newest = queue[queue.length - 1].t;
  if (chart.clockAt == null) {
    chart.clock = Math.max(chart.clock ?? -Infinity, queue[0].t - 0.1);
  } else {
    // Stalls add lag; playing a little fast while behind the target takes it back.
    const speed = newest - chart.clock > PLAYBACK_TARGET_LAG_S ? PLAYBACK_CATCH_UP : 1;
    chart.clock += (speed * (now - chart.clockAt)) / 1000;
  }
  chart.clockAt = now;
  if (newest - chart.clock > PLAYBACK_MAX_LAG_S) {
    // Far behind (a hidden tab, a stall): skip to near the newest, dropping the rest.
    chart.clock = newest - PLAYBACK_TARGET_LAG_S;
    while (queue.length > 1 && queue[1].t <= chart.clock) {
      queue.shift();
      chart.dropped += 1;
    }
  }
  // At most one frame a tick, oldest first: frames taken close together are shown on
  // consecutive ticks instead of hiding one another.
  let frame = queue[0].t <= chart.clock ? queue.shift() : null;
  if (frame && calm()) {
    // Less motion: only the newest picture that is due, and at most one a CALM_MS.
    while (queue.length && queue[0].t <= chart.clock) frame = queue.shift();
    if (now - (chart.calmAt ?? -Infinity) < CALM_MS) {
      queue.unshift(frame);
      frame = null;
    } else chart.calmAt = now;
  }
  if (frame) {
    chart.shown = frame.values;
    chart.label = frame.label;
    chart.played += 1;
    chart.root.dataset.lagMs = ((newest - frame.t) * 1000).toFixed(0);
    paintCanvas(chart);
  }
  countFrames(chart);
  if (queue.length) requestAnimationFrame((t) => playback(chart, t));
  else {
    chart.playing = false;
    chart.clockAt = null;
  }
}

// Shows the newest queued frame at once, dropping the lag before it (nothing follows).
function showNewestFrame(chart) {
  const frame = chart.queue[chart.queue.length - 1];
  if (!frame) return;
  chart.queue.length = 0;
  chart.shown = frame.values;
  chart.label = frame.label;
  schedulePaint(chart);
}

// ---- words: the text alternative and the live region ----------------------------

function calm() {
  return window.matchMedia?.("(prefers-reduced-motion: reduce)").matches ?? false;
}

// The chart is a figure with a title (its layout's) and a sentence that says what it
// shows, with its numbers, for those who cannot see it (data.alt, made on the server).
function describe(chart, alt) {
  if (!chart.alt) {
    chart.alt = document.createElement("p");
    chart.alt.className = "live-plot-alt";
    chart.alt.id = `live-plot-alt-${chart.key}`;
    Object.assign(chart.alt.style, SR_ONLY);
    chart.root.appendChild(chart.alt);
    chart.root.setAttribute("role", "figure");
    chart.root.setAttribute("aria-describedby", chart.alt.id);
  }
  if (chart.title) chart.root.setAttribute("aria-label", chart.title);
  if (chart.alt.textContent !== alt) chart.alt.textContent = alt;
}

// A polite live region: what a screen reader says about the run without taking the focus.
function liveRegion(chart) {
  if (!chart.region) {
    chart.region = document.createElement("div");
    chart.region.className = "live-plot-status";
    chart.region.setAttribute("role", "status");
    chart.region.setAttribute("aria-live", "polite");
    chart.region.setAttribute("aria-atomic", "true");
    Object.assign(chart.region.style, SR_ONLY);
    chart.root.appendChild(chart.region);
  }
  return chart.region;
}

function say(chart, text, { now = false } = {}) {
  if (!text) return;
  const t = performance.now();
  if (!now && t - (chart.saidAt ?? -Infinity) < SAY_EVERY_MS) return;
  chart.saidAt = t;
  const region = liveRegion(chart);
  if (region.textContent !== text) region.textContent = text;
  chart.root.dataset.said = text;
}

// ---- the frames stream ------------------------------------------------------------
// While a run plays, the server pushes its pictures, side plots and readouts over a
// WebSocket of the app's own (live/server/stream.py) instead of rerunning the page. One socket
// per page; it reconnects while the page still wants it.
const streams = new Map();
const RECONNECT_MS = 1000;

// ---- clicks ------------------------------------------------------------------------

// Where a click at client (cx, cy) falls on the plot's plane, in data units, with the
// data units per pixel (so the server can say "near"); null outside the plot area.
function planeAt(chart, cx, cy) {
  const full = chart.div._fullLayout;
  const xa = full?.xaxis;
  const ya = full?.yaxis;
  if (!xa?.p2c || !ya?.p2c) return null;
  const box = chart.div.getBoundingClientRect();
  const px = cx - box.left - xa._offset;
  const py = cy - box.top - ya._offset;
  if (px < 0 || py < 0 || px > xa._length || py > ya._length) return null;
  const perPx = Math.abs(xa.range[1] - xa.range[0]) / xa._length;
  return { x: xa.p2c(px), y: ya.p2c(py), per_px: perPx };
}

// A chart with ``clicks`` reports a click on a point that has an id (Plotly's own
// click event), else on its plane: Plotly sends no event for a click on a heatmap whose
// hover is muted, or on the lines painted on the canvas, so a press and release in
// place on the plot is a click too.
function bindClicks(chart) {
  if (chart.clicksBound) return;
  chart.clicksBound = true;
  let pointAt = -1e9;
  let down = null;
  const send = (value) => chart.sendClick?.({ ...value, t: Date.now() });
  chart.div.on("plotly_click", (event) => {
    const p = event?.points?.[0];
    const id = p?.data?.ids?.[p.pointNumber];
    if (id === undefined || id === null) return;
    pointAt = performance.now();
    send({ trace: p.data.name ?? null, id: String(id) });
  });
  chart.div.addEventListener(
    "pointerdown",
    (e) => (down = { x: e.clientX, y: e.clientY, t: performance.now() }),
    true,
  );
  window.addEventListener(
    "pointerup",
    (e) => {
      const d = down;
      down = null;
      if (!d || !chart.sendClick || !chart.root.isConnected) return;
      if (Math.hypot(e.clientX - d.x, e.clientY - d.y) > 4 || performance.now() - d.t > 700) return;
      setTimeout(() => {
        if (performance.now() - pointAt < 400) return; // a point's own click said it
        const at = planeAt(chart, d.x, d.y);
        if (at) send(at);
      }, 60);
    },
    true,
  );
}

function onCanvas(chart, path) {
  return chart.canvasTraces.includes(Number(path.split(".")[0]));
}

function canvasArrays(chart) {
  const base = new Map();
  for (const [path, { value }] of chart.arrays) if (onCanvas(chart, path)) base.set(path, value);
  return base;
}

// The readout tiles are Streamlit's own metrics, drawn by the last page run: while no run
// comes, their numbers are kept current here. The number's own text node is changed in
// place: replacing the nodes React drew (its <p>) would leave React updating detached
// ones, and the next page run (after Pause: a Step, an edit, a rewind) would not show.
function showReadouts(values) {
  for (const tile of document.querySelectorAll('[data-testid="stMetric"]')) {
    const label = tile.querySelector('[data-testid="stMetricLabel"]')?.textContent?.trim();
    if (!(label in values)) continue;
    const box = tile.querySelector('[data-testid="stMetricValue"]');
    if (!box) continue;
    const texts = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
    const node = texts.nextNode();
    if (node && !texts.nextNode()) {
      if (node.nodeValue !== values[label]) node.nodeValue = values[label];
    } else if (box.textContent !== values[label]) {
      (box.querySelector("p") ?? box.querySelector("div") ?? box).textContent = values[label];
    }
  }
}

function onStreamMessage(stream, msg) {
  for (const [key, frames] of Object.entries(msg.frames ?? {})) {
    const chart = charts.get(key);
    if (!chart || !frames.length) continue;
    const base = canvasArrays(chart);
    for (const [path, value] of enqueueFrames(chart, frames, base)) {
      if (value !== base.get(path)) chart.arrays.set(path, { digest: null, value });
    }
  }
  for (const [key, arrays] of Object.entries(msg.plots ?? {})) {
    const chart = charts.get(key);
    if (!chart?.fig) continue;
    let draw = false;
    for (const [path, enc] of Object.entries(arrays)) {
      chart.arrays.set(path, { digest: null, value: decodeArray(enc) });
      draw ||= !onCanvas(chart, path);
    }
    if (draw) scheduleDraw(chart);
    else schedulePaint(chart);
  }
  // Whole figures (the Network): the page's next run sends its own spec again.
  for (const [key, fig] of Object.entries(msg.figures ?? {})) {
    const chart = charts.get(key);
    if (!chart?.json || !chart.root.isConnected) continue;
    const theme = readTheme(chart.root);
    Object.assign(chart, { json: fig.spec, spec: null, themed: theme.signature });
    chart.fig = themedFigure(fig.spec, theme);
    if (typeof fig.alt === "string") describe(chart, fig.alt);
    chart.streamed = (chart.streamed ?? 0) + 1;
    chart.root.dataset.streamed = String(chart.streamed);
    scheduleDraw(chart);
  }
  const status = msg.status;
  if (!status) return;
  if (status.readouts) showReadouts(status.readouts);
  const chart = charts.get(stream.key);
  if (chart) {
    let note = "";
    if (status.state === "waiting") note = `the server is full: your run waits (${status.ahead} ahead)`;
    else if (status.compiling) note = "compiling the network (first time only)…";
    else if (status.note) note = status.note;
    if (note !== (chart.note ?? "")) {
      chart.note = note;
      schedulePaint(chart);
    }
    // Progress every few seconds; a change of state (a stop, a pause) at once.
    if (status.says) say(chart, status.says, { now: status.state !== chart.root.dataset.state });
    chart.root.dataset.state = status.state;
    // Paused: training stopped and the readouts show its last numbers; so does the picture.
    if (status.state === "paused") showNewestFrame(chart);
  }
  // The class asks something of this page (a new exercise, the spotlight): it reruns
  // to say so. The first value only sets what later ones are compared with.
  if (status.attention !== undefined) {
    if (stream.attention !== undefined && stream.attention !== status.attention) {
      stream.trigger?.("attention", status.attention);
    }
    stream.attention = status.attention;
  }
  // Training stopped by itself (diverged, a dead network, ...): the page says why.
  if (status.state === "stopped" && stream.told !== status.why) {
    stream.told = status.why;
    stream.trigger?.("stopped", status.why);
  }
}

function connectStream(stream) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const url = `${scheme}//${location.host}${stream.url}?token=${encodeURIComponent(stream.token)}`;
  const ws = new WebSocket(url);
  stream.ws = ws;
  ws.onmessage = (event) => {
    // No longer wanted (paused, another run): what is still in flight is older than the
    // still picture and the readouts the page drew since.
    if (!stream.wanted || stream.ws !== ws) return;
    if (!charts.get(stream.key)?.root.isConnected) {
      // The page that wanted it is gone (another page is shown): stop streaming.
      stream.wanted = false;
      streams.delete(stream.token);
      ws.close();
      return;
    }
    stream.messages += 1;
    onStreamMessage(stream, JSON.parse(event.data));
  };
  ws.onclose = () => {
    if (stream.ws === ws) stream.ws = null;
    if (stream.wanted) setTimeout(() => stream.wanted && !stream.ws && connectStream(stream), RECONNECT_MS);
  };
}

// The page wants this stream (spec: {url, token, key}), or none (spec undefined).
function wantStream(spec, setTriggerValue) {
  for (const [token, other] of streams) {
    if (token === spec?.token) continue;
    other.wanted = false;
    other.ws?.close();
    streams.delete(token);
  }
  if (!spec) return;
  let stream = streams.get(spec.token);
  if (!stream) {
    stream = { ...spec, ws: null, wanted: true, messages: 0, told: null };
    streams.set(spec.token, stream);
    connectStream(stream);
  }
  stream.wanted = true;
  stream.trigger = setTriggerValue;
}

function newChart(key) {
  const root = document.createElement("div");
  root.className = "live-plot";
  root.style.width = "100%";
  const div = document.createElement("div");
  div.className = "live-plot-figure";
  root.appendChild(div);
  const chart = { key, root, div, spec: null, json: null, fig: null, themed: null, lib: null };
  Object.assign(chart, { arrays: new Map(), revision: 0, frames: 0, updates: 0, askedAt: -1e9 });
  Object.assign(chart, {
    canvasTraces: [],
    tables: new Map(),
    paints: 0,
    played: 0,
    received: 0,
    dropped: 0,
  });
  Object.assign(chart, { queue: [], lastSeq: -1, shown: null, label: "", restDirty: false });
  // Plotly's own `responsive` only hears window resizes; this also hears the sidebar.
  let width = 0;
  new ResizeObserver(([entry]) => {
    const w = Math.round(entry.contentRect.width);
    if (w > 0 && w !== width && chart.frames > 0 && window.Plotly) {
      width = w;
      window.Plotly.Plots.resize(div);
    }
  }).observe(root);
  return chart;
}

// Put the chart's node under this mount point, dropping any other chart left there (by
// an earlier copy of this module, e.g. after a resync).
function attach(chart, parentElement) {
  if (chart.root.parentNode === parentElement) return;
  for (const old of parentElement.querySelectorAll(":scope > .live-plot")) {
    if (old !== chart.root) {
      if (window.Plotly) window.Plotly.purge(old.firstChild);
      old.remove();
    }
  }
  parentElement.appendChild(chart.root);
}

export default function liveplot(component) {
  const { data, parentElement, setTriggerValue } = component;
  if (!data?.key) return;

  let chart = charts.get(data.key);
  if (!chart) {
    chart = newChart(data.key);
    charts.set(data.key, chart);
  }
  chart.sendClick = data.clicks ? (value) => setTriggerValue("click", value) : null;
  // Only the chart that plays the pictures decides whether the page streams.
  if (data.owns_stream) wantStream(data.stream, setTriggerValue);
  if (data.fig) {
    Object.assign(chart, { spec: data.spec, json: data.fig, lib: data.lib, themed: null });
    const spec = JSON.parse(data.fig);
    chart.canvasTraces = spec.canvas ?? [];
    chart.title = String(spec.layout?.title?.text ?? "").replace(/<[^>]*>/g, "");
    chart.tables.clear();
  }
  if (data.owns_stream && !data.stream) chart.note = "";
  for (const path of chart.arrays.keys()) if (!(path in data.paths)) chart.arrays.delete(path);
  const incoming = Object.entries(data.arrays ?? {});
  const frames = data.frames ?? [];
  const base = frames.length ? canvasArrays(chart) : new Map();
  for (const [path, enc] of incoming) {
    chart.arrays.set(path, { digest: data.paths[path], value: decodeArray(enc) });
  }
  // A still picture's caption (its epoch) may change while its arrays do not.
  const relabel = !frames.length && typeof data.label === "string" && data.label !== chart.label;
  const still = relabel || (!frames.length && incoming.some(([path]) => onCanvas(chart, path)));
  if (frames.length) {
    // What the frames brought is the state the digests name.
    for (const [path, value] of enqueueFrames(chart, frames, base)) {
      if (value !== base.get(path)) chart.arrays.set(path, { digest: data.paths[path], value });
    }
  } else if (still) {
    // A still picture (a step, a reset, a pause): show it now, whatever was queued, with
    // its own caption: it is the run now, as the readouts are.
    chart.queue.length = 0;
    chart.shown = null;
    chart.label = data.label ?? "";
  }
  const complete =
    chart.spec === data.spec &&
    Object.entries(data.paths).every(([path, digest]) => chart.arrays.get(path)?.digest === digest);
  if (!complete) {
    const now = performance.now();
    if (now - chart.askedAt > RESYNC_AFTER_MS) {
      chart.askedAt = now;
      setTriggerValue("resync", data.spec);
    }
    if (!chart.json) return; // nothing to show yet
  }

  attach(chart, parentElement);
  if (data.owns_stream) liveRegion(chart); // in the page before it first speaks
  if (typeof data.alt === "string") describe(chart, data.alt);
  if (data.say) say(chart, data.say, { now: true });
  // data-updates counts arrivals, data-frames counts draws (bursts coalesce).
  chart.updates += 1;
  chart.root.dataset.updates = String(chart.updates);
  chart.root.dataset.key = data.key;
  // Theme colors are resolved here, so a theme switch (which re-calls us) recolors.
  const theme = readTheme(parentElement);
  // Arrays of canvas traces need only a repaint; Plotly hears of them at rest.
  let changed = Boolean(data.fig) || incoming.some(([path]) => !onCanvas(chart, path));
  if (chart.themed !== theme.signature) {
    chart.fig = themedFigure(chart.json, theme);
    chart.themed = theme.signature;
    changed = true;
  }
  if (chart.height !== data.height) changed = true;
  chart.height = data.height;
  chart.div.style.height = `${data.height}px`;
  // A frame that brings nothing new costs no draw: drawing is the browser's bottleneck.
  if (changed || chart.frames === 0) scheduleDraw(chart);
  else if (still) {
    schedulePaint(chart);
    syncAtRest(chart);
  }
}
