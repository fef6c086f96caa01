// The wire's arrays, decoded (mirror of figures/wire.py): floats, quantised grids and
// units' sign bits; and the bends traced through sign bits (marching squares).

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
export function traceSigns(bits, offset, n, box, x, y) {
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
export function decodeSigns(enc) {
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
export function signLines(signs) {
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
export function decodeArray(enc) {
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
