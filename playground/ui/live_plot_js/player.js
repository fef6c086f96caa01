// Playback of a chart's frames: a queue and a clock that shows each picture at the
// pace it was taken, a little behind the newest. No Plotly and no DOM here beyond the
// chart's counters: ``show`` paints what is due.

import { decodeArray } from "./codec.js";

// Playback runs a little behind the newest frame, so a late message does not stall it;
// behind more than TARGET_LAG it plays CATCH_UP times faster; behind more than MAX_LAG
// it skips ahead to TARGET_LAG.
const PLAYBACK_MAX_LAG_S = 1.2;

const PLAYBACK_TARGET_LAG_S = 0.4;

const PLAYBACK_CATCH_UP = 1.25;

const MAX_QUEUED_FRAMES = 120;

// With prefers-reduced-motion the pictures change at most this often, with no playback.
export const CALM_MS = 1000;

// Queues the frames not seen yet (``playback`` then shows them) as pictures {t, label,
// values}; returns the last frame's arrays. A frame (figures/protocol.py LiveFrame) sends
// only what changed since the frame before: the rest carries over, starting from `base`
// (what the chart held before this message).
export function enqueueFrames(chart, frames, base) {
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
  return last;
}

// What became of every frame, for the tests: received = played + queued + dropped.
export function countFrames(chart) {
  const d = chart.root.dataset;
  d.received = String(chart.received);
  d.played = String(chart.played);
  d.queued = String(chart.queue.length);
  d.dropped = String(chart.dropped);
}

// Shows the frames whose time has come; the clock stands still while the queue is
// empty, so a late message delays the pictures instead of skipping them.
export function playback(chart, now, show) {
  const queue = chart.queue;
  if (!queue.length || !chart.root.isConnected) {
    chart.playing = false;
    chart.clockAt = null;
    return;
  }
  if (!chart.frames) {
    // Plotly has not drawn the axes yet: nothing can be shown, so the clock waits.
    chart.clockAt = null;
    requestAnimationFrame((t) => playback(chart, t, show));
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
  let picture = queue[0].t <= chart.clock ? queue.shift() : null;
  if (picture && calm()) {
    // Less motion: only the newest picture that is due, and at most one a CALM_MS.
    while (queue.length && queue[0].t <= chart.clock) picture = queue.shift();
    if (now - (chart.calmAt ?? -Infinity) < CALM_MS) {
      queue.unshift(picture);
      picture = null;
    } else chart.calmAt = now;
  }
  if (picture) {
    chart.shown = picture.values;
    chart.label = picture.label;
    chart.played += 1;
    chart.root.dataset.lagMs = ((newest - picture.t) * 1000).toFixed(0);
    show(chart);
  }
  countFrames(chart);
  if (queue.length) requestAnimationFrame((t) => playback(chart, t, show));
  else {
    chart.playing = false;
    chart.clockAt = null;
  }
}

// Takes the newest queued frame at once, dropping the lag before it (nothing follows);
// whether there was one to show.
export function showNewestFrame(chart) {
  const picture = chart.queue[chart.queue.length - 1];
  if (!picture) return false;
  chart.queue.length = 0;
  chart.shown = picture.values;
  chart.label = picture.label;
  return true;
}

export function calm() {
  return window.matchMedia?.("(prefers-reduced-motion: reduce)").matches ?? false;
}
