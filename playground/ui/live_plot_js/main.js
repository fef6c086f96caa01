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
// Arrays are keyed "<trace uid>.<prop>" (figures/protocol.py); each figure's uids are
// looked up once (indexTraces in chart.js).
//
// Canvas traces (the spec's canvas, by uid) are painted here on a canvas above Plotly's
// plot area and below its WebGL points: a change to them repaints in a few ms with no
// Plotly draw.
// Frames (data.frames) are played back on that canvas at the pace they were taken.

import { askResync, attach, canvasArrays, charts, describe, indexTraces, liveRegion, newChart, onCanvas, queueFrames, say, scheduleDraw, syncAtRest } from "./chart.js";
import { decodeArray } from "./codec.js";
import { schedulePaint } from "./painter.js";
import { readTheme, themedFigure } from "./theme.js";
import { wantStream } from "./stream.js";

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
    indexTraces(chart, spec);
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
    for (const [path, value] of queueFrames(chart, frames, base)) {
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
    askResync(chart, setTriggerValue, data.spec);
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
