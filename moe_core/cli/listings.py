"""The commands that list or teach: options, routers, datasets, metrics, lessons (and one lesson run
headless), a paper's replication, and the app. Listings import no torch, so they answer at once."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from pathlib import Path

from moe_core.cli.common import positive
from moe_core.datasets import describe_datasets
from moe_core.experiments.lessons import LESSONS, run_lesson
from moe_core.experiments.replications import REPLICATIONS, replicate, table
from moe_core.experiments.trials import METRICS
from moe_core.layer.balance import BALANCE
from moe_core.layer.routers import ROUTERS
from moe_core.measure.glossary import GLOSSARY
from moe_core.settings.config import ConfigError, parse_assignment
from moe_core.settings.table import describe_options


def add(commands) -> None:
    commands.add_parser("options", help="list every option: key, type, default, allowed values").set_defaults(
        run=lambda _: print("\n".join(describe_options()))
    )
    commands.add_parser("routers", help="list the routing rules and balance strategies").set_defaults(run=_routers)
    commands.add_parser("datasets", help="list the datasets and the options they read").set_defaults(
        run=lambda _: print("\n".join(describe_datasets()))
    )
    commands.add_parser("metrics", help="list the metrics a sweep keeps: range, aim, meaning").set_defaults(
        run=lambda _: print("\n".join(describe_metrics()))
    )
    again = commands.add_parser("replicate", help="a theory paper's table, trained over seeds, beside its numbers")
    again.add_argument("name", choices=list(REPLICATIONS), help="the paper: " + ", ".join(REPLICATIONS))
    again.add_argument("--seeds", type=positive, default=3, help="seeds per model (train.seed 0, 1, ...)")
    again.add_argument("--quick", action="store_true", help="a lesson-sized version: fewer points and steps")
    again.add_argument("--set", action="append", metavar="KEY=VALUE", help="change an option of every model")
    again.add_argument("--json", action="store_true", help="end with one JSON line: a list, one object per model")
    again.set_defaults(run=_replicate)
    commands.add_parser("lessons", help="list the lessons, one name a line").set_defaults(
        run=lambda _: print("\n".join(LESSONS))
    )
    teach = commands.add_parser("lesson", help="run one lesson headless and say whether its point showed")
    teach.add_argument("name", choices=list(LESSONS), help="the lesson: " + ", ".join(LESSONS))
    teach.add_argument("--seed", type=int, default=0, help="the training seed (train.seed)")
    teach.add_argument("--json", action="store_true", help="end with one JSON line: lesson, verdict, numbers")
    teach.set_defaults(run=_lesson)
    app = commands.add_parser(
        "app", help="start the app in the browser; further arguments go to streamlit run (e.g. --server.port 8502)"
    )
    app.set_defaults(run=_app)


def describe_metrics() -> list[str]:
    """One line per metric a sweep's row keeps: its name, range, which way is better, and its meaning."""
    lines = []
    for name in METRICS:
        term = GLOSSARY[name]
        low = "-inf" if term.low is None else f"{term.low:g}"
        high = "inf" if term.high is None else ("E (the experts)" if term.high == "E" else f"{term.high:g}")
        aim = f"{term.better} is better" if term.better else "no better direction"
        lines.append(f"{name:<18} [{low}, {high}]  {aim}. {term.sentence} [{term.citation}]")
    return lines


def _routers(_: argparse.Namespace) -> None:
    print("Routers (model.router):")
    for spec in ROUTERS.entries():
        uses = ", ".join(sorted(spec.uses)) or "none"
        print(f"  {spec.name:<14} {spec.label}. {spec.help} Options: {uses}. [{spec.citation}]")
    print("Balance strategies (model.balance):")
    for spec in BALANCE.entries():
        cite = f" [{spec.citation}]" if spec.citation else ""
        print(f"  {spec.name:<14} {spec.label}. {spec.help}{cite}")


def _replicate(args: argparse.Namespace) -> None:
    spec = REPLICATIONS[args.name]
    show = not args.json and sys.stderr.isatty()
    size = "lesson-sized" if args.quick else "full-sized"
    if not args.json:
        print(f"{spec.label}, {size}, {args.seeds} seeds per model. [{spec.citation}]", flush=True)
    progress = (lambda model: print(f"  trained: {model}", file=sys.stderr, flush=True)) if show else None
    from moe_core import runtime  # torch loads here, not at start-up

    runtime.configure(None)
    overrides = dict(parse_assignment(text) for text in args.set or [])
    REPLICATIONS[args.name].configs(args.quick, overrides)  # a bad --set is one error line before any training
    rows = replicate(args.name, args.seeds, args.quick, progress, overrides)
    if args.json:
        print(json.dumps(rows))
        return
    print(table(args.name, rows))


def _lesson(args: argparse.Namespace) -> None:
    lesson = LESSONS[args.name]
    if not args.json:
        print(f"{lesson.label}\n{lesson.help}\nWatch: {lesson.watch}", flush=True)
    from moe_core import runtime  # torch loads here, not at start-up

    runtime.configure(None)
    outcome = run_lesson(args.name, args.seed)
    if args.json:
        verdict = outcome.verdict
        print(json.dumps({"lesson": args.name, "seed": args.seed, "verdict": verdict.held,
                          "sentence": verdict.sentence, **verdict.numbers}))  # fmt: skip
        return
    print(("As expected: " if outcome.verdict.held else "Not this time: ") + outcome.verdict.sentence)


def _app(args: argparse.Namespace) -> None:
    spec = importlib.util.find_spec("moe_explorer_app")
    if spec is None or spec.origin is None:
        raise ConfigError("The app is not installed; run pip install . in a clone of the repository.")
    script = Path(spec.origin).with_name("streamlit_app.py")
    command = [sys.executable, "-m", "streamlit", "run", str(script), *args.streamlit_args]
    # the server takes this process's place, so that a signal to stop it (Ctrl-C, a service manager's
    # SIGTERM) reaches the server rather than leaving it running without a parent
    sys.stdout.flush()
    os.execv(sys.executable, command)
