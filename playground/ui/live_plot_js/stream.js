// The frames stream: while a run plays, the server pushes its pictures, side plots,
// whole figures and readouts over a WebSocket of the app's own (live/server/stream.py)
// instead of rerunning the page. One socket per page; it reconnects while the page
// still wants it.

import { askResync, charts, canvasArrays, describe, indexTraces, onCanvas, queueFrames, say, scheduleDraw } from "./chart.js";
import { decodeArray } from "./codec.js";
import { schedulePaint } from "./painter.js";
import { showNewestFrame } from "./player.js";
import { readTheme, themedFigure } from "./theme.js";

const streams = new Map(); // token -> the page's stream

// A closed socket opens again after this, while the page wants the stream and shows its
// chart.
const RECONNECT_MS = 1000;
// A page run can remount the chart: its root leaves the page for a moment and comes back,
// for seconds on a busy machine. A chart gone this long may mean another page is shown:
// the socket closes (the server stops a run nobody streams) and opens again once the
// chart is back (the server then goes on with the run). (Stopping for good left a
// learner's page reading Pause with nothing training: at the first message that found
// the chart gone, and again, on a busy machine, after a remount longer than this.)
const GONE_MS = 3000;
// The server says paused while this page still wants the stream (it drew Pause): a page
// run stops training first and starts it again at its end, and one that did not get that
// far left the two apart (a class learner's page at Pause, its run stopped at epoch 11,
// its stream saying paused for minutes). After this long the page asks for its live part
// again (the resync trigger), whose run sets both from the session.
const PAUSED_APART_MS = 5000;

function chartShown(stream) {
  return Boolean(charts.get(stream.key)?.root.isConnected);
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
    for (const [path, value] of queueFrames(chart, frames, base)) {
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
    indexTraces(chart, chart.fig);
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
    if (status.state === "paused" && showNewestFrame(chart)) schedulePaint(chart);
  }
  if (status.state !== "paused") stream.pausedSince = null;
  else if (chart && performance.now() - (stream.pausedSince ??= performance.now()) > PAUSED_APART_MS) {
    stream.pausedSince = null;
    chart.root.dataset.pausedResyncs = String((+chart.root.dataset.pausedResyncs || 0) + 1);
    askResync(chart, stream.trigger, chart.spec);
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
  const root = charts.get(stream.key)?.root;
  if (root) root.dataset.sockets = String((+root.dataset.sockets || 0) + 1);
  ws.onmessage = (event) => {
    // No longer wanted (paused, another run): what is still in flight is older than the
    // still picture and the readouts the page drew since.
    if (!stream.wanted || stream.ws !== ws) return;
    if (!chartShown(stream)) {
      const now = performance.now();
      stream.goneSince ??= now;
      if (now - stream.goneSince > GONE_MS) {
        stream.goneSince = null;
        ws.close(); // reopens once the chart is back (onclose)
      }
      return;
    }
    stream.goneSince = null;
    stream.messages += 1;
    onStreamMessage(stream, JSON.parse(event.data));
  };
  ws.onclose = () => {
    if (stream.ws === ws) stream.ws = null;
    reconnectLater(stream);
  };
}

function reconnectLater(stream) {
  if (!stream.wanted) return;
  setTimeout(() => {
    if (!stream.wanted || stream.ws) return;
    if (chartShown(stream)) connectStream(stream);
    else reconnectLater(stream);
  }, RECONNECT_MS);
}

// The page wants this stream (spec: {url, token, key}), or none (spec undefined).
export function wantStream(spec, setTriggerValue) {
  for (const [token, other] of streams) {
    if (token === spec?.token) continue;
    other.wanted = false;
    other.ws?.close();
    streams.delete(token);
  }
  if (!spec) return;
  let stream = streams.get(spec.token);
  if (!stream) {
    stream = { ...spec, ws: null, wanted: true, messages: 0, told: null, goneSince: null, pausedSince: null };
    streams.set(spec.token, stream);
    connectStream(stream);
  }
  stream.wanted = true;
  stream.trigger = setTriggerValue;
}
