"""Colours for every eye (issue 23): the class colours and the ends of the output scale
stay apart under protanopia, deuteranopia and tritanopia, class markers differ in shape
too, and text the app colours itself reads at 4.5:1 or more (WCAG 2.1 AA).

References (written out here, so the test depends on no colour library):
- Machado, Oliveira & Fernandes (2009), "A Physiologically-based Model for Simulation of
  Color Vision Deficiency", IEEE TVCG 15(6): the severity-1.0 matrices, applied to
  linear sRGB.
- Sharma, Wu & Dalal (2005), "The CIEDE2000 Color-Difference Formula: Implementation
  Notes, Supplementary Test Data, and Mathematical Observations", Color Research &
  Application 30(1): the formula and its 34 published test pairs (Table 1), which check
  the implementation below.
- WCAG 2.1, "relative luminance" and "contrast ratio" (success criterion 1.4.3).
"""

import itertools
import math

import numpy as np
import pytest

from playground.figures.style import (
    CLASS_COLOURS,
    DIVERGING,
    class_colours,
)
from playground.figures.traces import point_traces
from playground.ui import a11y

MACHADO_2009 = {
    "protanopia": (
        (0.152286, 1.052583, -0.204868),
        (0.114503, 0.786281, 0.099216),
        (-0.003882, -0.048116, 1.051998),
    ),
    "deuteranopia": (
        (0.367322, 0.860646, -0.227968),
        (0.280085, 0.672501, 0.047413),
        (-0.011820, 0.042940, 0.968881),
    ),
    "tritanopia": (
        (1.255528, -0.076749, -0.178779),
        (-0.078411, 0.930809, 0.147602),
        (0.004733, 0.691367, 0.303900),
    ),
}
# Sharma et al. (2005), Table 1: L1 a1 b1, L2 a2 b2, ΔE00.
SHARMA_2005 = (
    (50.0000, 2.6772, -79.7751, 50.0000, 0.0000, -82.7485, 2.0425),
    (50.0000, 3.1571, -77.2803, 50.0000, 0.0000, -82.7485, 2.8615),
    (50.0000, 2.8361, -74.0200, 50.0000, 0.0000, -82.7485, 3.4412),
    (50.0000, -1.3802, -84.2814, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, -1.1848, -84.8006, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, -0.9009, -85.5211, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, 0.0000, 0.0000, 50.0000, -1.0000, 2.0000, 2.3669),
    (50.0000, -1.0000, 2.0000, 50.0000, 0.0000, 0.0000, 2.3669),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0009, 7.1792),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0010, 7.1792),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0011, 7.2195),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0012, 7.2195),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0009, -2.4900, 4.8045),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0010, -2.4900, 4.8045),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0011, -2.4900, 4.7461),
    (50.0000, 2.5000, 0.0000, 50.0000, 0.0000, -2.5000, 4.3065),
    (50.0000, 2.5000, 0.0000, 73.0000, 25.0000, -18.0000, 27.1492),
    (50.0000, 2.5000, 0.0000, 61.0000, -5.0000, 29.0000, 22.8977),
    (50.0000, 2.5000, 0.0000, 56.0000, -27.0000, -3.0000, 31.9030),
    (50.0000, 2.5000, 0.0000, 58.0000, 24.0000, 15.0000, 19.4535),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.1736, 0.5854, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.2972, 0.0000, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 1.8634, 0.5757, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.2592, 0.3350, 1.0000),
    (60.2574, -34.0099, 36.2677, 60.4626, -34.1751, 39.4387, 1.2644),
    (63.0109, -31.0961, -5.8663, 62.8187, -29.7946, -4.0864, 1.2630),
    (61.2901, 3.7196, -5.3901, 61.4292, 2.2480, -4.9620, 1.8731),
    (35.0831, -44.1164, 3.7933, 35.0232, -40.0716, 1.5901, 1.8645),
    (22.7233, 20.0904, -46.6940, 23.0331, 14.9730, -42.5619, 2.0373),
    (36.4612, 47.8580, 18.3852, 36.2715, 50.5065, 21.2231, 1.4146),
    (90.8027, -2.0831, 1.4410, 91.1528, -1.6435, 0.0447, 1.4441),
    (90.9257, -0.5406, -0.9208, 88.6381, -0.8985, -0.7239, 1.5381),
    (6.7747, -0.2908, -2.4247, 5.8714, -0.0985, -2.2286, 0.6377),
    (2.0776, 0.0795, -1.1350, 0.9033, -0.0636, -0.5514, 0.9082),
)
# ΔE00 of about 10 and more reads as a clearly different colour at a glance: every pair
# of class colours and the output scale's ends and middle must stay that far apart (the
# markers' shapes come on top, for those who see no difference at all).
MIN_DELTA_E = 10.0
MIN_TEXT_CONTRAST = 4.5


def hex_rgb(colour: str) -> np.ndarray:
    c = colour.lstrip("#")
    return np.array([int(c[i : i + 2], 16) / 255 for i in (0, 2, 4)])


def to_linear(rgb: np.ndarray) -> np.ndarray:
    rgb = np.asarray(rgb, np.float64)
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def to_srgb(linear: np.ndarray) -> np.ndarray:
    linear = np.clip(linear, 0, 1)
    return np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)


def simulate(colour: str, deficiency: str) -> np.ndarray:
    """The sRGB colour a viewer with the deficiency sees (Machado 2009, severity 1)."""
    return to_srgb(np.asarray(MACHADO_2009[deficiency]) @ to_linear(hex_rgb(colour)))


def lab(rgb: np.ndarray) -> np.ndarray:
    """CIELAB (D65) of an sRGB colour."""
    m = np.array(
        [
            [0.4124564, 0.3575761, 0.1804375],
            [0.2126729, 0.7151522, 0.0721750],
            [0.0193339, 0.1191920, 0.9503041],
        ]
    )
    xyz = m @ to_linear(rgb) / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def ciede2000(lab1, lab2) -> float:
    """ΔE00 of two CIELAB colours (Sharma et al. 2005, equations 1-22; kL = kC = kH = 1)."""
    (l1, a1, b1), (l2, a2, b2) = lab1, lab2
    c_bar = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2
    g = 0.5 * (1 - math.sqrt(c_bar**7 / (c_bar**7 + 25**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = math.hypot(a1p, b1), math.hypot(a2p, b2)
    h1p = math.degrees(math.atan2(b1, a1p)) % 360 if c1p else 0.0
    h2p = math.degrees(math.atan2(b2, a2p)) % 360 if c2p else 0.0
    dl, dc = l2 - l1, c2p - c1p
    if c1p * c2p == 0:
        dhp = 0.0
    elif abs(h2p - h1p) <= 180:
        dhp = h2p - h1p
    elif h2p - h1p > 180:
        dhp = h2p - h1p - 360
    else:
        dhp = h2p - h1p + 360
    dh = 2 * math.sqrt(c1p * c2p) * math.sin(math.radians(dhp / 2))
    l_bar, cp_bar = (l1 + l2) / 2, (c1p + c2p) / 2
    if c1p * c2p == 0:
        hp_bar = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        hp_bar = (h1p + h2p) / 2
    elif h1p + h2p < 360:
        hp_bar = (h1p + h2p + 360) / 2
    else:
        hp_bar = (h1p + h2p - 360) / 2
    t = (
        1
        - 0.17 * math.cos(math.radians(hp_bar - 30))
        + 0.24 * math.cos(math.radians(2 * hp_bar))
        + 0.32 * math.cos(math.radians(3 * hp_bar + 6))
        - 0.20 * math.cos(math.radians(4 * hp_bar - 63))
    )
    d_theta = 30 * math.exp(-(((hp_bar - 275) / 25) ** 2))
    r_c = 2 * math.sqrt(cp_bar**7 / (cp_bar**7 + 25**7))
    s_l = 1 + 0.015 * (l_bar - 50) ** 2 / math.sqrt(20 + (l_bar - 50) ** 2)
    s_c = 1 + 0.045 * cp_bar
    s_h = 1 + 0.015 * cp_bar * t
    r_t = -math.sin(math.radians(2 * d_theta)) * r_c
    return math.sqrt(
        (dl / s_l) ** 2 + (dc / s_c) ** 2 + (dh / s_h) ** 2 + r_t * (dc / s_c) * (dh / s_h)
    )


def seen_difference(first: str, second: str, deficiency: str) -> float:
    return ciede2000(lab(simulate(first, deficiency)), lab(simulate(second, deficiency)))


def contrast(foreground: str, background: str) -> float:
    """WCAG 2.1 contrast ratio of two sRGB colours."""
    lum = [
        float(to_linear(hex_rgb(c)) @ [0.2126, 0.7152, 0.0722]) for c in (foreground, background)
    ]
    return (max(lum) + 0.05) / (min(lum) + 0.05)


@pytest.mark.parametrize("pair", SHARMA_2005)
def test_ciede2000_matches_sharma_2005(pair):
    assert ciede2000(pair[:3], pair[3:6]) == pytest.approx(pair[6], abs=5e-5)


def test_the_simulation_leaves_grey_grey_and_merges_red_with_green():
    # A row of each matrix sums to 1: greys stay put; a protanope's red and green (the
    # classic confusion) come out far closer than they are.
    for deficiency in MACHADO_2009:
        assert np.allclose(simulate("#808080", deficiency), hex_rgb("#808080"), atol=2e-3)
    red, green = "#d62728", "#2ca02c"
    normal = ciede2000(lab(hex_rgb(red)), lab(hex_rgb(green)))
    assert seen_difference(red, green, "protanopia") < normal / 2


DEFICIENCIES = list(MACHADO_2009)


@pytest.mark.parametrize("deficiency", DEFICIENCIES)
def test_two_classes_and_the_output_scale_ends_stay_apart(deficiency):
    first, second = class_colours(2)
    low, mid, high = (stop[1] for stop in DIVERGING)
    found = {
        "class 0 / class 1": seen_difference(first, second, deficiency),
        "scale low / high": seen_difference(low, high, deficiency),
        "scale low / middle": seen_difference(low, mid, deficiency),
        "scale high / middle": seen_difference(high, mid, deficiency),
    }
    print(deficiency, {k: round(v, 1) for k, v in found.items()})
    assert min(found.values()) >= MIN_DELTA_E, found


@pytest.mark.parametrize("deficiency", DEFICIENCIES)
def test_many_classes_stay_apart(deficiency):
    worst = min(
        (seen_difference(a, b, deficiency), a, b)
        for a, b in itertools.combinations(CLASS_COLOURS, 2)
    )
    print(deficiency, "closest class colours:", worst)
    assert worst[0] >= MIN_DELTA_E, worst


@pytest.mark.parametrize("n_classes", [2, 4, len(CLASS_COLOURS)])
def test_every_class_has_its_own_marker_shape(n_classes):
    # The one builder of data points (boundary, regions, hidden space and the lessons'
    # boundaries): a shape per class, so colour is never the only cue.
    x = np.zeros((n_classes, 2))
    for part in ("train", "test"):
        traces = point_traces(x, np.arange(n_classes), "multiclass", n_classes, (), part=part)
        shapes = {t.marker.symbol for t in traces}
        assert len(shapes) == n_classes, shapes


def test_text_the_app_colours_reads_at_4_5_to_1():
    pairs = {
        "caption": (a11y.CAPTION_TEXT, a11y.PAGE_BACKGROUND),
        "copy button hover": (a11y.ACCENT_TEXT, a11y.PAGE_BACKGROUND),
        **{
            f"code {name}": (colour, a11y.CODE_BACKGROUND)
            for name, colour in a11y.CODE_TOKEN_COLOURS.items()
        },
    }
    found = {name: contrast(*pair) for name, pair in pairs.items()}
    assert min(found.values()) >= MIN_TEXT_CONTRAST, found
    # The reference values of WCAG: black on white is 21:1, #777 on white about 4.48:1.
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
