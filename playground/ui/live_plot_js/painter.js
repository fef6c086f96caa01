// The canvas layer laid over Plotly's plot area, and where a click falls on it. The
// only module that reads Plotly's internals (the axes' pixel offsets and converters:
// _fullLayout, _offset, _length, c2p, p2c): they hold for PLOTLY_MAJOR only, which
// loadPlotly checks (pyproject pins the plotly package, which ships plotly.js, to it).

import { signLines } from "./codec.js";

export const PLOTLY_MAJOR = 4;

let plotlyLoading = null;

// Plotly (loaded once per page), if it is the major these internals were read from.
export function loadPlotly(url) {
  if (window.Plotly) return checked(window.Plotly);
  if (!plotlyLoading) {
    plotlyLoading = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = url;
      script.async = true;
      script.onload = () => checked(window.Plotly).then(resolve, reject);
      script.onerror = () => {
        plotlyLoading = null; // let a later frame retry
        reject(new Error(`live_plot: cannot load Plotly from ${url}`));
      };
      document.head.appendChild(script);
    });
  }
  return plotlyLoading;
}

function checked(Plotly) {
  const major = Number(String(Plotly?.version ?? "").split(".")[0]);
  if (major === PLOTLY_MAJOR) return Promise.resolve(Plotly);
  return Promise.reject(new Error(`live_plot: needs plotly.js ${PLOTLY_MAJOR}.x, got ${Plotly?.version}`));
}

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

function canvasValue(chart, uid, prop, trace) {
  const path = `${uid}.${prop}`;
  if (chart.shown?.has(path)) return chart.shown.get(path);
  return chart.arrays.get(path)?.value ?? trace[prop];
}

export function paintCanvas(chart) {
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
  for (const [index, uid] of chart.canvasTraces) {
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
      const z = canvasValue(chart, uid, "z", trace);
      if (z) paintHeatmap(ctx, chart, index, trace, z, xa, ya, background);
    } else {
      const x = canvasValue(chart, uid, "x", trace);
      const y = canvasValue(chart, uid, "y", trace);
      if (x && y) paintLines(ctx, trace, x, y, xa, ya);
      const signs = canvasValue(chart, uid, "signs", trace);
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

export function schedulePaint(chart) {
  if (chart.paintPending) return;
  chart.paintPending = true;
  requestAnimationFrame(() => {
    chart.paintPending = false;
    paintCanvas(chart);
  });
}

// Where a click at client (cx, cy) falls on the plot's plane, in data units, with the
// data units per pixel (so the server can say "near"); null outside the plot area.
export function planeAt(chart, cx, cy) {
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
