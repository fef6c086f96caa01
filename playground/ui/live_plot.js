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

const RESYNC_AFTER_MS = 1000;
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

// Mirror of encode_grid / encode_floats: "f4" raw float32, "u1"/"u2" quantised with
// the top code meaning NaN and codes 0..top-1 spread evenly over [lo, hi].
function decodeArray(enc) {
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
    if (traces[index]) traces[index] = withValue(traces[index], keys, value);
  }
  chart.revision += 1;
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
      if (chart.frames === 0) await Plotly.newPlot(chart.div, traces, layout, config);
      else await Plotly.react(chart.div, traces, layout, config);
      chart.root.dataset.drawMs = (performance.now() - start).toFixed(1);
      chart.frames += 1;
      chart.root.dataset.frames = String(chart.frames);
      chart.root.dataset.spec = chart.spec;
      await new Promise((resolve) => requestAnimationFrame(resolve));
    }
  } catch (err) {
    chart.root.dataset.error = String(err);
    console.error(err);
  } finally {
    chart.busy = false;
  }
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
  if (data.fig) {
    Object.assign(chart, { spec: data.spec, json: data.fig, lib: data.lib, themed: null });
  }
  for (const path of chart.arrays.keys()) if (!(path in data.paths)) chart.arrays.delete(path);
  for (const [path, enc] of Object.entries(data.arrays ?? {})) {
    chart.arrays.set(path, { digest: data.paths[path], value: decodeArray(enc) });
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
  // data-updates counts arrivals, data-frames counts draws (bursts coalesce).
  chart.updates += 1;
  chart.root.dataset.updates = String(chart.updates);
  chart.root.dataset.key = data.key;
  // Theme colors are resolved here, so a theme switch (which re-calls us) recolors.
  const theme = readTheme(parentElement);
  let changed = Boolean(data.fig) || Object.keys(data.arrays ?? {}).length > 0;
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
}
