// One live chart per user key: its figure, arrays and DOM node (kept across remounts),
// drawn with Plotly.newPlot once and Plotly.react after; its words for screen readers;
// its clicks.

import { loadPlotly, paintCanvas, planeAt, schedulePaint } from "./painter.js";
import { enqueueFrames, playback } from "./player.js";

const RESYNC_AFTER_MS = 1000;

// Asks the page's next run to send this chart everything again (the "resync" trigger,
// through ``setTriggerValue``): what it holds is stale, or its stream and its page
// disagree. At most once a RESYNC_AFTER_MS.
export function askResync(chart, setTriggerValue, value) {
  const now = performance.now();
  if (now - chart.askedAt <= RESYNC_AFTER_MS) return;
  chart.askedAt = now;
  setTriggerValue?.("resync", value);
}

// Plotly gets the canvas traces' latest arrays (for hover) once no frame came this long.
const REST_SYNC_MS = 600;

// A chart this far below (or above) the screen counts as on it: it is drawn before it
// scrolls in. Further away, its Plotly redraws (50-120 ms each on a slow laptop, once a
// second while a run plays) wait until it comes near: a quarter of a playing Playground
// tab's renderer CPU went to the charts below a 1280x900 screen (on a phone, every chart
// but the boundary is below).
const NEAR_SCREEN = "300px";

// Words for screen readers: the live region reads the run's progress at most this often
// (never every picture); a stop, a pause or a description is read at once.
const SAY_EVERY_MS = 5000;

const SR_ONLY = {
  position: "absolute", width: "1px", height: "1px", padding: "0", margin: "-1px",
  overflow: "hidden", clip: "rect(0, 0, 0, 0)", whiteSpace: "nowrap", border: "0",
};

// Everything per user key: the figure, its arrays and its DOM node, kept across remounts
// (a page switch, a full rerun) so the same node is moved back instead of redrawn.
export const charts = new Map();

// Copy-on-write set of a dotted property path, so the cached spec stays pristine.
function withValue(obj, keys, value) {
  const copy = { ...obj };
  copy[keys[0]] =
    keys.length === 1 ? value : withValue(obj[keys[0]] ?? {}, keys.slice(1), value);
  return copy;
}

// Arrays name their trace by uid ("surface.z", "bends-1.signs"), so a trace added to a
// figure moves none of them. Each figure's uids are looked up here, once; a path whose uid
// the figure lacks is ignored (Python refuses to send one). The canvas traces are kept as
// [index, uid] pairs in trace order, the order they are painted in.
export function indexTraces(chart, spec) {
  const index = new Map();
  (spec.data ?? []).forEach((trace, i) => {
    if (trace.uid != null) index.set(String(trace.uid), i);
  });
  chart.traceIndex = index;
  chart.canvasTraces = (spec.canvas ?? [])
    .filter((uid) => index.has(uid))
    .map((uid) => [index.get(uid), uid])
    .sort((a, b) => a[0] - b[0]);
}

function buildFigure(chart) {
  const traces = chart.fig.data.slice();
  for (const [path, { value }] of chart.arrays) {
    const [uid, ...keys] = path.split(".");
    if (keys[0] === "signs") continue; // the canvas traces them; Plotly has no such key
    const index = chart.traceIndex.get(uid);
    if (index !== undefined) traces[index] = withValue(traces[index], keys, value);
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

export function scheduleDraw(chart) {
  chart.dirty = true;
  if (chart.busy) return;
  chart.busy = true;
  drawLoop(chart);
}

// One draw loop per chart, so newPlot finishes before the first react and bursts of
// frames coalesce to at most one draw per animation frame (a hidden tab draws none). A
// chart away from the screen keeps its news (dirty) until it comes near (watchScreen).
async function drawLoop(chart) {
  try {
    const Plotly = await loadPlotly(chart.lib);
    while (chart.dirty && chart.root.isConnected) {
      if (chart.frames > 0 && !chart.nearScreen) {
        chart.root.dataset.deferred = String((+chart.root.dataset.deferred || 0) + 1);
        break;
      }
      chart.dirty = false;
      if (chart.resizeDue) {
        chart.resizeDue = false;
        await Plotly.Plots.resize(chart.div);
      }
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

// While frames play, Plotly's copy of a canvas heatmap is old: its hover would show
// old values, so it is off until the draw at rest brings the spec's hover back.
function muteStaleHover(chart) {
  if (chart.hoverMuted || chart.busy || !chart.frames || !window.Plotly) return;
  const heatmaps = chart.canvasTraces
    .map(([i]) => i)
    .filter((i) => chart.fig?.data[i]?.type === "heatmap");
  if (!heatmaps.length) return;
  chart.hoverMuted = true;
  window.Plotly.restyle(chart.div, { hoverinfo: "skip", hovertemplate: "" }, heatmaps);
}

// Once frames stop, Plotly gets the canvas traces' latest arrays (hover reads them).
export function syncAtRest(chart) {
  chart.restDirty = true;
  clearTimeout(chart.restTimer);
  chart.restTimer = setTimeout(() => {
    if (!chart.queue.length && !chart.playing && chart.restDirty) scheduleDraw(chart);
  }, REST_SYNC_MS);
}

// The chart is a figure with a title (its layout's) and a sentence that says what it
// shows, with its numbers, for those who cannot see it (data.alt, made on the server).
export function describe(chart, alt) {
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
export function liveRegion(chart) {
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

export function say(chart, text, { now = false } = {}) {
  if (!text) return;
  const t = performance.now();
  if (!now && t - (chart.saidAt ?? -Infinity) < SAY_EVERY_MS) return;
  chart.saidAt = t;
  const region = liveRegion(chart);
  if (region.textContent !== text) region.textContent = text;
  chart.root.dataset.said = text;
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

export function onCanvas(chart, path) {
  const uid = path.split(".")[0];
  return chart.canvasTraces.some(([, own]) => own === uid);
}

export function canvasArrays(chart) {
  const base = new Map();
  for (const [path, { value }] of chart.arrays) if (onCanvas(chart, path)) base.set(path, value);
  return base;
}

export function newChart(key) {
  const root = document.createElement("div");
  root.className = "live-plot";
  root.style.width = "100%";
  const div = document.createElement("div");
  div.className = "live-plot-figure";
  root.appendChild(div);
  const chart = { key, root, div, spec: null, json: null, fig: null, themed: null, lib: null };
  Object.assign(chart, { arrays: new Map(), revision: 0, frames: 0, updates: 0, askedAt: -1e9 });
  Object.assign(chart, {
    canvasTraces: [], // [index, uid] of the traces painted here (indexTraces)
    traceIndex: new Map(),
    tables: new Map(),
    paints: 0,
    played: 0,
    received: 0,
    dropped: 0,
  });
  Object.assign(chart, { queue: [], lastSeq: -1, shown: null, label: "", restDirty: false });
  watchScreen(chart);
  // Plotly's own `responsive` only hears window resizes; this also hears the sidebar.
  let width = 0;
  new ResizeObserver(([entry]) => {
    const w = Math.round(entry.contentRect.width);
    if (w > 0 && w !== width && chart.frames > 0 && window.Plotly) {
      width = w;
      resize(chart);
    }
  }).observe(root);
  return chart;
}

// Plotly lays the chart out anew for its width; away from the screen, once it comes near.
function resize(chart) {
  chart.resizeDue = !chart.nearScreen;
  if (!chart.resizeDue) window.Plotly.Plots.resize(chart.div);
}

// Whether the chart is on or near the screen (in a closed expander or a scrolled-away part
// of the page it is not); coming near, it draws what it held back.
function watchScreen(chart) {
  chart.nearScreen = true; // until the observer's first report
  new IntersectionObserver(
    ([entry]) => {
      chart.nearScreen = entry.isIntersecting;
      chart.root.dataset.nearScreen = String(chart.nearScreen);
      if (chart.nearScreen && chart.dirty) scheduleDraw(chart); // resizes first
      else if (chart.nearScreen && chart.resizeDue) resize(chart);
    },
    // The page scrolls inside Streamlit's own box: scrollMargin widens that one too.
    { rootMargin: NEAR_SCREEN, scrollMargin: NEAR_SCREEN },
  ).observe(chart.root);
}

// Put the chart's node under this mount point, dropping any other chart left there (by
// an earlier copy of this module, e.g. after a resync).
export function attach(chart, parentElement) {
  if (chart.root.parentNode === parentElement) return;
  for (const old of parentElement.querySelectorAll(":scope > .live-plot")) {
    if (old !== chart.root) {
      if (window.Plotly) window.Plotly.purge(old.firstChild);
      old.remove();
    }
  }
  parentElement.appendChild(chart.root);
}

// Queues frames and plays them back on the canvas; Plotly's stale hover is muted meanwhile.
export function queueFrames(chart, frames, base) {
  const last = enqueueFrames(chart, frames, base);
  muteStaleHover(chart);
  if (!chart.playing && chart.queue.length) {
    chart.playing = true;
    requestAnimationFrame((now) => playback(chart, now, paintCanvas));
  }
  syncAtRest(chart);
  return last;
}
