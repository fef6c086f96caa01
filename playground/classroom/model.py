"""What a class is made of, as plain data: its code and the teacher's secret, the
exercise every learner gets, a learner's name, and a learner's tile on the wall with its
status. No Streamlit, no store: the store keeps these as JSON."""

import hashlib
import hmac
import math
import secrets
import time
from dataclasses import asdict, dataclass, field

# No 0/O, 1/I/L: a code read off a projector is typed without guessing.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 6
SECRET_BYTES = 24  # 192 random bits: whoever holds the teacher link is the teacher
MAX_NAME = 24

# Wall statuses, the stuck ones first (the wall's default order).
STATUSES = ("diverged", "dead layer", "stalled", "waiting", "playing", "paused", "idle", "left")
STUCK = frozenset({"diverged", "dead layer", "stalled"})
STALE_S = 10.0  # a tile this old: its learner's page is gone (closed tab, lost server)
IDLE_S = 120.0  # paused this long with no touch of a control: idle
STALL_EPOCHS = 200  # the test loss moved by less than STALL_CHANGE over this many epochs
STALL_CHANGE = 0.005
SOLVED = 0.95  # a test score this high is a solved problem, however flat its loss


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normal_code(text: str) -> str:
    """A code as typed or linked (any case, spaces or dashes) in its stored form; "" when
    it cannot be one."""
    raw = "".join(ch for ch in str(text) if ch not in " -")
    if not raw.isascii():  # "ß".upper() is "SS": no letter may turn into others
        return ""
    code = raw.upper()
    ok = len(code) == CODE_LENGTH and all(ch in CODE_ALPHABET for ch in code)
    return code if ok else ""


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def secret_hash(secret: str) -> str:
    """The store keeps this, never the secret: a leaked store opens no wall."""
    return hashlib.sha256(str(secret).encode("utf-8", "replace")).hexdigest()


def is_teacher(info: "ClassInfo | None", secret: str | None) -> bool:
    if info is None or not secret:
        return False
    return hmac.compare_digest(info.teacher_hash, secret_hash(secret))


def clean_name(text: str) -> tuple[str, bool]:
    """A learner's name as the others see it: printable characters, spaces squeezed, at
    most MAX_NAME long; and whether it was cut. It stays text: pages show it escaped."""
    name = " ".join("".join(ch if ch.isprintable() else " " for ch in str(text)).split())
    return name[:MAX_NAME].rstrip(), len(name) > MAX_NAME


@dataclass
class ClassInfo:
    """One class: its code, the teacher's secret's hash, and the exercise (a Playground
    query: settings and lesson, the share link's words, version counted up on each send)."""

    code: str
    teacher_hash: str
    exercise: dict[str, str]
    version: int = 1
    created: float = field(default_factory=time.time)
    title: str = ""

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: dict) -> "ClassInfo":
        return cls(
            code=str(raw["code"]),
            teacher_hash=str(raw["teacher_hash"]),
            exercise={str(k): str(v) for k, v in dict(raw["exercise"]).items()},
            version=int(raw.get("version", 1)),
            created=float(raw.get("created", 0.0)),
            title=str(raw.get("title", "")),
        )


@dataclass
class Tile:
    """A learner on the wall, as of ``updated`` (time.time(), the publishing server's)."""

    member: str
    name: str
    status: str
    epoch: int = 0
    test_loss: float = math.nan
    score: float = math.nan  # test accuracy, or R² for regression
    metric: str = "accuracy"
    shape: str = ""  # e.g. "2 -> 8 -> 8 -> 1"
    picture: str = ""  # a small PNG of the decision boundary, base64
    version: int = 0  # the exercise version the learner's page runs
    updated: float = field(default_factory=time.time)

    def to_json(self) -> dict:
        out = asdict(self)
        for key in ("test_loss", "score"):  # JSON has no NaN
            out[key] = out[key] if math.isfinite(out[key]) else None
        return out

    @classmethod
    def from_json(cls, raw: dict) -> "Tile":
        def num(v):
            return math.nan if v is None else float(v)

        return cls(
            member=str(raw["member"]),
            name=str(raw.get("name", "")),
            status=str(raw.get("status", "idle")),
            epoch=int(raw.get("epoch", 0)),
            test_loss=num(raw.get("test_loss")),
            score=num(raw.get("score")),
            metric=str(raw.get("metric", "accuracy")),
            shape=str(raw.get("shape", "")),
            picture=str(raw.get("picture", "")),
            version=int(raw.get("version", 0)),
            updated=float(raw.get("updated", 0.0)),
        )

    def seen_status(self, now: float | None = None) -> str:
        """The status to show: "left" once the tile stopped being refreshed."""
        now = time.time() if now is None else now
        if now - self.updated > STALE_S:
            return "left"
        # A status this version does not know (a newer replica's, through Redis).
        return self.status if self.status in STATUSES else "idle"


def learner_status(
    *,
    playing: bool,
    waiting: bool,
    diverged: bool,
    dead_layer: bool,
    test_losses: list[float],
    epochs: list[float],
    idle_for: float,
    score: float = math.nan,
) -> str:
    """A learner's status from what their run shows: stuck ones first (diverged, a dead
    layer, a loss that stopped moving while playing short of a solution), then what
    they do."""
    if diverged:
        return "diverged"
    if dead_layer:
        return "dead layer"
    solved = math.isfinite(score) and score >= SOLVED
    if playing and not solved and stalled(test_losses, epochs):
        return "stalled"
    if playing:
        return "waiting" if waiting else "playing"
    return "idle" if idle_for >= IDLE_S else "paused"


def stalled(test_losses: list[float], epochs: list[float]) -> bool:
    """The test loss moved by less than STALL_CHANGE (relative) over the last
    STALL_EPOCHS epochs."""
    if not epochs or epochs[-1] - epochs[0] < STALL_EPOCHS:
        return False
    last = epochs[-1]
    window = [
        loss
        for loss, e in zip(test_losses, epochs, strict=True)
        if e >= last - STALL_EPOCHS and math.isfinite(loss)
    ]
    if len(window) < 2:
        return False
    scale = max(abs(window[-1]), 1e-6)
    return (max(window) - min(window)) / scale < STALL_CHANGE


def status_counts(tiles: list[Tile], now: float | None = None) -> dict[str, int]:
    counts = dict.fromkeys(STATUSES, 0)
    for tile in tiles:
        counts[tile.seen_status(now)] += 1
    return counts


def sorted_tiles(tiles: list[Tile], by: str, now: float | None = None) -> list[Tile]:
    """The wall's order: "status" (stuck first, then by name), "score" (best first,
    unscored last) or "name"."""
    if by == "score":

        def key(t):
            finite = math.isfinite(t.score)
            return (not finite, -t.score if finite else 0, t.name.casefold(), t.member)

    elif by == "name":

        def key(t):
            return (t.name.casefold(), t.member)

    else:

        def key(t):
            return (STATUSES.index(t.seen_status(now)), t.name.casefold(), t.member)

    return sorted(tiles, key=key)
