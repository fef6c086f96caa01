"""The live plot's protocol (``figures/protocol.py``): one schema for the frames stream's
messages and the live plot's data, which the stream writes, the load test reads, and the
renderer's JS modules read key for key (their source text is checked here, so the two
cannot drift apart silently)."""

import json
import re
from pathlib import Path

import pytest

from playground.figures import protocol
from playground.figures.protocol import (
    MESSAGE_KEYS,
    PAGE_IGNORES,
    STATUS_KEYS,
    CompactArray,
    LiveFrame,
    PlotData,
    WholeFigure,
    decode_message,
    encode_message,
    frames_for,
    keys,
    split_path,
)

ROOT = Path(__file__).resolve().parents[2]
JS = ROOT / "playground" / "ui" / "live_plot_js"
LIVE_PLOT = ROOT / "playground" / "ui" / "live_plot.py"


def js(name: str) -> str:
    return (JS / name).read_text(encoding="utf-8")


def loader_js() -> str:
    """The small loader ``live_plot.py`` sends as the element's own JS."""
    text = LIVE_PLOT.read_text(encoding="utf-8")
    return re.search(r'_LOADER_JS = """(.*?)"""', text, re.S).group(1)


def reads(text: str, name: str) -> set[str]:
    """The keys JS code reads off a variable: ``name.key`` or ``name?.key`` (not
    ``other.name.key``)."""
    return set(re.findall(rf"(?<![\w.$]){name}\??\.(\w+)", text))


# Where the renderer reads each part of the protocol, under which variable name.
READERS = [
    ("stream message", lambda: reads(js("stream.js"), "msg"), MESSAGE_KEYS),
    ("status", lambda: reads(js("stream.js"), "status"), STATUS_KEYS),
    ("whole figure", lambda: reads(js("stream.js"), "fig"), keys(WholeFigure)),
    ("frame", lambda: reads(js("player.js"), "frame"), keys(LiveFrame)),
    ("array", lambda: reads(js("codec.js"), "enc"), keys(CompactArray)),
    (
        "plot data",
        lambda: reads(js("main.js"), "data") | reads(loader_js(), "data"),
        keys(PlotData),
    ),
]


@pytest.mark.parametrize(("part", "read", "schema"), READERS, ids=[r[0] for r in READERS])
def test_the_js_reads_only_what_the_schema_defines(part, read, schema):
    got = read()
    assert got, f"no {part} read found: did the JS rename its variable?"
    assert got <= schema, f"the JS reads {part} keys the schema lacks: {sorted(got - schema)}"


@pytest.mark.parametrize(("part", "read", "schema"), READERS, ids=[r[0] for r in READERS])
def test_the_js_handles_every_key_the_schema_defines(part, read, schema):
    missing = schema - PAGE_IGNORES - read()
    assert not missing, f"{part} keys the JS never reads: {sorted(missing)}"


def test_what_the_page_ignores_it_never_reads():
    assert PAGE_IGNORES <= STATUS_KEYS | MESSAGE_KEYS
    assert not PAGE_IGNORES & reads(js("stream.js"), "status")


def test_live_plot_writes_only_plot_data_keys():
    written = set(re.findall(r'\bdata\["(\w+)"\]', LIVE_PLOT.read_text(encoding="utf-8")))
    assert written and written <= keys(PlotData)


def test_the_schema_lists_the_streams_parts():
    assert {"frames", "plots", "figures", "status"} == MESSAGE_KEYS
    assert {"state", "ahead", "why", "readouts", "says", "compiling", "note"} <= STATUS_KEYS
    assert protocol.StreamStatus.__required_keys__ == {"state", "ahead", "why"}


def test_messages_round_trip_and_strangers_are_refused():
    frame: LiveFrame = {"seq": 3, "t": 1.5, "label": "epoch 3", "arrays": {}}
    msg = {"frames": {"boundary": [frame]}, "status": {"state": "playing", "ahead": 0, "why": ""}}
    text = encode_message(msg)
    assert ", " not in text and ": " not in text  # compact: ten messages a second
    back = decode_message(text)
    assert back == msg and frames_for(back, "boundary") == [frame]
    assert frames_for(back, "other") == [] and frames_for({}, "boundary") == []
    for bad in ({"pictures": {}}, {"status": {"state": "playing", "mood": "good"}}):
        with pytest.raises(ValueError, match="schema"):
            encode_message(bad)
        with pytest.raises(ValueError, match="schema"):
            decode_message(json.dumps(bad))  # as a server that drifted would send it
    with pytest.raises(ValueError, match="object"):
        decode_message("[1, 2]")


@pytest.mark.parametrize(
    ("path", "want"),
    [("surface.z", ("surface", ["z"])), ("bends-2.signs", ("bends-2", ["signs"])),
     ("train.marker.color", ("train", ["marker", "color"]))],
)  # fmt: skip
def test_paths_name_a_trace_uid_and_its_property(path, want):
    assert split_path(path) == want


@pytest.mark.parametrize("path", ["z", "surface", ".z", "surface.", "surface.x-y"])
def test_bad_paths(path):
    with pytest.raises(ValueError, match="uid"):
        split_path(path)
