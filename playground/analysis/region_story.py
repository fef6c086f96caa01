"""Why the Bends & regions view shows the number of regions it does, in plain sentences
built from exact counts (one layer's maximum 1 + H + C(H, 2), the bends that cross the
view, the pairs that meet inside it, shared points)."""

import math

import numpy as np

from playground.analysis.geometry import max_regions_one_layer
from playground.analysis.lines import first_layer_lines, first_layer_regions, lines_reach
from playground.analysis.raster import RegionView


def box_label(box) -> str:
    x0, x1, y0, y1 = (float(v) for v in box)
    if (x0, y0) == (-x1, -y1) and x1 == y1:
        return f"[−{x1:g}, {x1:g}]²"
    return f"[{x0:g}, {x1:g}] × [{y0:g}, {y1:g}]"


def _count_phrase(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def region_story(view: RegionView, params, activation: str) -> list[str]:
    """Why the view shows the number of regions it does, in specific plain sentences."""
    if not view.exact:
        return [view.note]
    widths = view.widths
    if not widths:
        return ["The linear model has no hidden units, so nothing bends: one region, the plane."]
    if activation == "linear":
        return ["With the linear activation no unit ever switches off, so nothing bends."]
    h = widths[0]
    most = max_regions_one_layer(h)
    w0, b0 = (np.asarray(p, np.float64) for p in next(iter(params)))
    s = first_layer_lines(w0, b0, view.box)
    story = [
        f"One hidden layer of H = {h} units cuts the whole plane into at most "
        f"1 + H + C(H, 2) = 1 + {h} + {math.comb(h, 2)} = **{most}** regions: each unit adds "
        "one straight bend, and the maximum needs every two bends to cross and no three "
        "to meet in one point."
    ]
    where = f"In {box_label(view.box)}, {s.crossing} of the {h} first-layer bends cross the view"
    if s.missing:
        reach = lines_reach(w0, b0)
        where += (
            f"; {_count_phrase(s.missing, 'lies', 'lie')} outside it "
            f"(all of them cross [−{reach:.3g}, {reach:.3g}]²: zoom out to see)"
        )
    if s.flat:
        where += f"; {_count_phrase(s.flat, 'unit has', 'units have')} zero weights and no bend"
    story.append(where + ".")
    if s.crossing >= 2:
        pairs = math.comb(s.crossing, 2)
        parts = [_count_phrase(s.pairs_inside, "meets", "meet") + " inside the view"]
        if s.pairs_outside:
            parts.append(_count_phrase(s.pairs_outside, "meets", "meet") + " outside it")
        if s.pairs_parallel:
            parts.append(_count_phrase(s.pairs_parallel, "is", "are") + " parallel")
        said = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        if pairs == 1:
            said = said.split(" ", 1)[1].replace("meets", "meet").replace("is ", "are ")
            story.append(f"The two bends {said}.")
        else:
            story.append(f"Of the {pairs:,} pairs of those bends, {said}.")
    r1 = first_layer_regions(params, activation, view.box)
    alone = f"So layer 1 alone makes 1 + {s.crossing} + {s.pairs_inside} = {s.general_count}"
    if r1 < s.general_count:
        alone += (
            " regions if no three bends met in one point; here some meet at shared points, "
            f"which leaves **{r1}**"
        )
        if not np.any(b0):
            alone += " (every bias is still 0, so every first-layer bend passes through the origin)"
    else:
        alone += " regions" + (": the most one layer can make." if r1 == most else "")
    story.append(alone.rstrip(".") + ".")
    if len(widths) > 1:
        later = "Layer 2" if len(widths) == 2 else f"Layers 2–{len(widths)}"
        deeper = (
            f"{later} {'bends' if len(widths) == 2 else 'bend'} again inside each of those "
            "pieces (a deeper bend kinks where it meets an earlier one) and "
            f"{'splits' if len(widths) == 2 else 'split'} them further: "
            f"**{view.count:,}** regions in all"
        )
        if view.count > most:
            deeper += ", more than one layer of this width could ever make"
        story.append(deeper + ".")
    return story


def bends_in_view(view: RegionView, params) -> tuple[int, int] | None:
    """(first-layer bends crossing the view, first-layer units), or None without them."""
    if not (view.exact and view.widths):
        return None
    w0, b0 = next(iter(params))
    stats = first_layer_lines(w0, b0, view.box)
    return stats.crossing, stats.units
