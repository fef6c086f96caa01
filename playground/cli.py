"""Headless command line: ``python -m playground train ...``, ``... regions FILE.npz`` and
``... challenge list | grade NAME FILE.npz``.

Bad arguments exit with status 2 and one plain line on stderr, never a traceback.
"""

import argparse
import json
import sys
import time
from pathlib import Path

from playground.core.config import (
    ALIASES,
    FIELDS,
    FORMULA_PROBLEM,
    UPLOAD_PROBLEM,
    RunConfig,
    parse_field,
)
from playground.core.errors import PlaygroundError

# CLI flag -> config field: the field's own name, or the shorter name links accept too.
FLAG_FIELDS = {
    **{
        name: name
        for name in (
            *("problem", "activation", "features", "classes", "seed", "optimizer"),
            *("batch_size", "init", "reg", "reg_rate", "dropout", "noise", "train_ratio"),
            *("schedule", "warmup_steps", "decay_steps"),
        )
    },
    **ALIASES,
}
# Enough steps for every problem to learn at the defaults with a net big enough for it
# (4 spiral arms at 32x3 need ~5,000 at batch 10; README, "Defaults").
DEFAULT_STEPS = 5000


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, f"error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m playground", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    t = sub.add_parser("train", help="train one network and print its scores")
    for flag, name in FLAG_FIELDS.items():
        t.add_argument("--" + flag.replace("_", "-"), dest=flag, help=FIELDS[name].help)
    t.add_argument("--width", default="8", help="units in every hidden layer")
    t.add_argument("--depth", default="2", help="hidden layers; 0 is the linear model")
    t.add_argument("--steps", type=int, default=DEFAULT_STEPS, help="optimizer steps")
    t.add_argument("--formula", help="learn a formula in x1, x2 instead of a problem")
    t.add_argument("--data", help="learn the points of a CSV file (x1, x2, label)")
    t.add_argument("--save", help="write the trained model to this .npz file")
    t.add_argument("--json", action="store_true", help="print one JSON object")
    r = sub.add_parser("regions", help="count the exact linear regions of a saved model")
    r.add_argument("file")
    r.add_argument("--box", nargs=4, type=float, metavar=("X0", "X1", "Y0", "Y1"))
    r.add_argument("--json", action="store_true")
    _challenge_parser(sub)
    return p


def _challenge_parser(sub) -> None:
    c = sub.add_parser("challenge", help="list the challenges, or grade a saved model")
    actions = c.add_subparsers(dest="action", required=True, parser_class=_Parser)
    cl = actions.add_parser("list", help="the built-in challenges: problem, goal and limits")
    cl.add_argument("--json", action="store_true", help="print one JSON object")
    cg = actions.add_parser(
        "grade",
        help="grade a saved model on the challenge's own test points (exit 0 even if it fails)",
        description=(
            "Grade a model file (.npz, as `train --save` writes it) on the challenge's own "
            "test points, against its goal and limits. Exit status 0 whenever the grading "
            "worked, also for a model that fails the challenge (then `passed` is false and "
            "`reason` says why); 2 for an unknown challenge or a file that is not a model."
        ),
    )
    cg.add_argument("name", help="the challenge's name (see `challenge list`)")
    cg.add_argument("file", help="the model file (.npz)")
    cg.add_argument("--json", action="store_true", help="print one JSON object")


def config_from_args(args) -> RunConfig:
    """Build and strictly check a config: out-of-range values are errors here."""
    from playground.core.config import validate

    changes = {}
    for flag, name in FLAG_FIELDS.items():
        value = getattr(args, flag)
        if value is not None:
            changes[name] = parse_field(name, value)
    width, depth = parse_field("n_points", args.width), parse_field("n_points", args.depth)
    if not 1 <= width <= FIELDS["hidden"].hi:
        raise PlaygroundError(f"--width must lie between 1 and {FIELDS['hidden'].hi:g}")
    from playground.core.model import MAX_DEPTH

    if not 0 <= depth <= MAX_DEPTH:
        raise PlaygroundError(f"--depth must lie between 0 and {MAX_DEPTH}")
    changes["hidden"] = (width,) * depth
    if args.formula is not None:
        changes.update(problem=FORMULA_PROBLEM, formula=parse_field("formula", args.formula))
    if args.data is not None:
        changes["problem"] = UPLOAD_PROBLEM
    cfg, _ = validate(RunConfig().replace(**changes), strict=True)
    if args.steps < 0:
        raise PlaygroundError("--steps must be 0 or more")
    return cfg


def _finite(v: float):
    return v if v == v and abs(v) != float("inf") else None


def cmd_train(args) -> dict:
    import jax

    from playground.core.model import param_count
    from playground.core.train import divergence_message, metric_name
    from playground.live.engine import run as engine
    from playground.live.engine.limits import capped, capped_dataset, load_limits
    from playground.live.server.startup import start_process

    start_process()
    cfg = config_from_args(args)
    upload = None
    if args.data is not None:
        from playground.userdata.points_csv import read_points_csv

        try:
            raw = Path(args.data).read_bytes()
        except OSError as err:
            raise PlaygroundError(f"cannot read {args.data}: {err.strerror}") from None
        upload = engine.user_dataset(
            read_points_csv(raw), train_ratio=cfg.train_ratio, seed=cfg.seed
        )
    # The host's limits (host.toml, PLAYGROUND_HOST_CONFIG) bind the command line too.
    limits = load_limits()
    cfg, limit_notes = capped(cfg, limits, upload=upload)
    for note in limit_notes:
        print(f"playground: {note}", file=sys.stderr)
    upload = upload and capped_dataset(upload, limits)[0]
    t0 = time.perf_counter()
    run = engine.new_run(cfg, upload=upload)
    build_s = time.perf_counter() - t0
    run, log = engine.train(run, steps=args.steps)
    m, metric = run.metrics, metric_name(run.spec.task)
    out = {
        "problem": cfg.problem,
        "task": run.spec.task,
        "hidden": list(cfg.hidden),
        "activation": cfg.activation,
        "features": list(cfg.features),
        "init": cfg.init,
        "schedule": cfg.schedule,
        "warmup_steps": cfg.warmup_steps,
        "params": param_count(run.spec.sizes),
        "steps": run.step,
        "epochs": run.epoch,
        "train_loss": _finite(m.train_loss),
        "test_loss": _finite(m.test_loss),
        f"train_{metric}": _finite(m.train_metric),
        f"test_{metric}": _finite(m.test_metric),
        # Chunks that compiled are left out, so this is the training speed proper.
        "steps_per_s": log.warm_steps / log.warm_seconds if log.warm_seconds else None,
        "compile_s": log.compile_seconds,
        "setup_s": build_s,
        "device": str(jax.devices()[0]),
        "host_limits": limit_notes,
        "backend": jax.default_backend(),
        "diverged": (
            divergence_message(run.diverged_at, cfg.learning_rate) if run.diverged else None
        ),
    }
    if args.save:
        from playground.core.modelfile import save_model

        Path(args.save).write_bytes(save_model(engine.saved_model(run)))
        out["saved"] = args.save
    return out


def cmd_regions(args) -> dict:
    from playground.analysis.geometry import geometry_supported, region_count
    from playground.core.datasets import BOX
    from playground.core.modelfile import load_model

    try:
        data = Path(args.file).read_bytes()
    except OSError as err:
        raise PlaygroundError(f"cannot read {args.file}: {err.strerror}") from None
    model = load_model(data)
    box = tuple(args.box) if args.box else BOX
    if not (box[0] < box[1] and box[2] < box[3]):
        raise PlaygroundError("--box needs X0 < X1 and Y0 < Y1")
    ok, why = geometry_supported(model.activation, model.features)
    if not ok:
        raise PlaygroundError(why)
    return {
        "regions": region_count(model.params, model.activation, box),
        "box": list(box),
        "hidden": list(model.hidden),
        "activation": model.activation,
    }


def cmd_challenge(args) -> dict:
    """``challenge list``: the built-ins (with --json one object, else one line each);
    ``challenge grade``: the grade of a model file, failing or not."""
    from playground.core import challenges as C

    if args.action == "list":
        if not args.json:
            return {c.name: c.describe() for c in C.CHALLENGES.values()}
        found = [c.public() for c in C.CHALLENGES.values()]
        return {"challenges": found, "count": len(found)}
    from playground.core.modelfile import load_model
    from playground.live.server.startup import start_process

    challenge = C.get_challenge(args.name)
    try:
        data = Path(args.file).read_bytes()
    except OSError as err:
        raise PlaygroundError(f"cannot read {args.file}: {err.strerror}") from None
    model = load_model(data)
    start_process()
    result = C.grade(challenge, model)
    return {**result._asdict(), "metric": challenge.metric, "goal": challenge.goal}


COMMANDS = {"train": cmd_train, "regions": cmd_regions, "challenge": cmd_challenge}


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        out = COMMANDS[args.command](args)
    except PlaygroundError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k}: {v}")
    return 0
