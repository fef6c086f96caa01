"""The live plot's wire format: numeric arrays packed compactly for the browser.

Grids go as one byte per cell over a known range, lines as float32 or 16-bit codes,
base64 in JSON; ``live_plot_js/codec.js`` unpacks them (``decodeArray``), ``decode_array`` does
the same here. Shared by the page's live plots and the frames stream, so no Streamlit.
The types (``CompactArray``, ``LiveFrame``) and the messages that carry the arrays, by
path ``"<trace uid>.<attr>"``, are defined in ``figures.protocol``.
"""

import base64
import hashlib
from typing import Literal

import numpy as np

from playground.figures.protocol import CompactArray, LiveFrame
from playground.figures.style import NO_LINE

__all__ = [
    "CompactArray",
    "LiveFrame",
    "array_digest",
    "decode_array",
    "digest",
    "encode_floats",
    "encode_grid",
    "encode_live",
    "encode_signs",
]


def _b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode("ascii")


def _quantise(a: np.ndarray, lo: float, hi: float, dtype: str) -> CompactArray:
    # In place and NaN patched once: every live picture comes through here.
    top = 255 if dtype == "u1" else 65535
    span = hi - lo
    if span > 0:
        scaled = np.clip(a, lo, hi)
        scaled -= lo
        scaled *= (top - 1) / span
        np.rint(scaled, out=scaled)
    else:
        scaled = np.zeros(a.shape)
    nan = np.isnan(a)
    if nan.any():
        scaled[nan] = top
    codes = scaled.astype("<u1" if dtype == "u1" else "<u2")
    return {"dtype": dtype, "shape": list(a.shape), "lo": lo, "hi": hi, "b64": _b64(codes)}


def _finite_range(a: np.ndarray) -> tuple[float, float]:
    finite = a[np.isfinite(a)]
    return (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)


def encode_grid(
    z: np.ndarray, vmin: float | None = None, vmax: float | None = None
) -> CompactArray:
    """Quantise a 2D grid ``z`` (rows, cols) to one byte per cell.

    Values are clipped to ``[vmin, vmax]`` (default: the finite min and max of ``z``);
    NaN survives as NaN. The error of a value inside the range is at most
    ``(vmax - vmin) / 508`` (half of one of 254 steps). A 100x100 grid is ~13 KB.
    """
    a = np.asarray(z, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"encode_grid wants a 2D array, got shape {a.shape}")
    lo, hi = _finite_range(a) if vmin is None or vmax is None else (vmin, vmax)
    lo = lo if vmin is None else float(vmin)
    hi = hi if vmax is None else float(vmax)
    if not hi >= lo:
        raise ValueError(f"encode_grid needs vmin <= vmax, got {lo} > {hi}")
    return _quantise(a, lo, hi, "u1")


def encode_floats(a: np.ndarray, *, bits: Literal[32, 16] = 32) -> CompactArray:
    """Pack a 1D or 2D float array: raw float32 (``bits=32``, 4 bytes per value) or
    rounded to 65535 levels over its own finite range (``bits=16``, error at most
    ``(max - min) / 131068``). A 1000-point line is ~5.3 KB (32) or ~2.7 KB (16)."""
    x = np.asarray(a, dtype=np.float64)
    if x.ndim not in (1, 2):
        raise ValueError(f"encode_floats wants a 1D or 2D array, got shape {x.shape}")
    if bits == 16:
        lo, hi = _finite_range(x)
        return _quantise(x, lo, hi, "u2")
    if bits != 32:
        raise ValueError(f"bits must be 32 or 16, got {bits}")
    return {
        "dtype": "f4",
        "shape": list(x.shape),
        "lo": 0.0,
        "hi": 0.0,
        "b64": _b64(x.astype("<f4")),
    }


def encode_signs(positive: np.ndarray, box) -> CompactArray:
    """Signs (units, n, n) bools on an n x n grid over ``box``, 8 to a byte: row-major,
    each byte's first point in its top bit (``np.packbits``' order), each unit starting
    on a new byte."""
    p = np.asarray(positive, bool)
    packed = np.packbits(p.reshape(len(p), -1), axis=1)
    return {
        "dtype": "b1",
        "shape": list(p.shape),
        "lo": 0.0,
        "hi": 1.0,
        "b64": _b64(packed),
        "box": [float(v) for v in box],
    }


# ``style.NO_LINE`` packed once per precision and shared: frames resend only arrays that
# are not the very object sent before (``live.server.frames.thin``), so it costs nothing.
_NO_LINES: dict[int, CompactArray] = {}


def encode_live(arrays: dict) -> dict[str, CompactArray]:
    """A figure builder's live arrays (``figures.style.LiveArray``) packed for the wire:
    grids as bytes over their [lo, hi], lines as float32 or 16-bit, signs as bits. One
    array shared by several paths (a curve's x) is packed once."""
    packed: dict[int, CompactArray] = {}
    out = {}
    for path, a in arrays.items():
        key = id(a.values)
        if key not in packed:
            if a.values is NO_LINE:
                packed[key] = _NO_LINES.get(a.bits) or encode_floats(NO_LINE, bits=a.bits)
                _NO_LINES.setdefault(a.bits, packed[key])
            elif a.box is not None:
                packed[key] = encode_signs(a.values, a.box)
            elif a.lo is not None:
                packed[key] = encode_grid(a.values, a.lo, a.hi)
            else:
                packed[key] = encode_floats(a.values, bits=a.bits)
        out[path] = packed[key]
    return out


def decode_array(enc: CompactArray) -> np.ndarray:
    """Unpack a CompactArray exactly as live_plot_js/codec.js does (float32 result; sign bits as
    0/1 of shape (units, n, n))."""
    raw = base64.b64decode(enc["b64"])
    if enc["dtype"] == "b1":
        units, n, _ = enc["shape"]
        packed = np.frombuffer(raw, np.uint8).reshape(units, -1)
        bits = np.unpackbits(packed, axis=1, count=n * n)
        return bits.reshape(units, n, n).astype(np.float32)
    if enc["dtype"] == "f4":
        flat = np.frombuffer(raw, dtype="<f4").astype(np.float32)
    else:
        codes = np.frombuffer(raw, dtype="<u1" if enc["dtype"] == "u1" else "<u2")
        top = 255 if enc["dtype"] == "u1" else 65535
        step = (enc["hi"] - enc["lo"]) / (top - 1)
        flat = np.where(codes == top, np.nan, enc["lo"] + codes * step).astype(np.float32)
    return flat.reshape(enc["shape"])


def digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def array_digest(enc: CompactArray) -> str:
    box = enc.get("box")
    return digest(f"{enc['dtype']}{enc['shape']}{enc['lo']!r}{enc['hi']!r}{box}{enc['b64']}")
