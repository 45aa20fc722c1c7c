"""Command line: `python -m moe_core` (or `moe-explorer`) train | sweep | options | routers | datasets | app.

Bad input exits with code 2 and one `error:` line. Listings and `--help` import no torch, so they
answer at once; `train` loads it when it starts.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from pathlib import Path

from moe_core import cpu_paths
from moe_core.datasets import describe_datasets, with_dataset_defaults
from moe_core.experiments.lessons import LESSONS, run_lesson
from moe_core.experiments.replications import REPLICATIONS, replicate, table
from moe_core.layer.balance import BALANCE
from moe_core.layer.routers import ROUTERS
from moe_core.settings.config import ConfigError, RunConfig, parse_assignment, run_label, split_key
from moe_core.settings.table import describe_options

SUMMARY_FIELDS = (
    "train_loss",
    "test_loss",
    "test_accuracy",
    "load_share",
    "load_entropy",
    "effective_experts",
    "dead_experts",
    "drop_rate",
    "unrouted_rate",
    "dispatch_entropy",
    "cluster_nmi",
    "purity",
    "max_vio",
    "load_cv2",
    "router_z",
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's usage block would be more than one line
        _fail(f"{message} (see python -m moe_core --help)")


def _fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def _positive(text: str) -> int:
    value = int(text) if text.lstrip("-").isdigit() else None
    if value is None or value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got '{text}'")
    return value


def _steps(text: str) -> int:
    value = int(text) if text.lstrip("-").isdigit() else None
    if value is None or value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 0, got '{text}'")
    return value


def read_config_file(path_text: str) -> dict:
    path = Path(path_text)
    if not path.is_file():
        raise ConfigError(f"The config file '{path_text}' does not exist.")
    try:
        doc = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"The config file '{path_text}' is not valid JSON ({err}).") from None
    if not isinstance(doc, dict):
        raise ConfigError(f"The config file '{path_text}' must hold a JSON object.")
    return doc


def build_config(config_path: str | None, assignments: list[str], steps: int | None) -> RunConfig:
    """The config file (or the defaults), then --set overrides, then --steps; the chosen dataset's
    suggested values fill what neither set."""
    doc = read_config_file(config_path) if config_path else {}
    for key, value in (parse_assignment(a) for a in assignments):
        section, name = split_key(key)
        if not isinstance(doc.setdefault(section, {}), dict):
            raise ConfigError(f"The '{section}' part of the configuration must be a JSON object.")
        doc[section][name] = value
    if steps is not None:
        doc.setdefault("train", {})["steps"] = steps
    if isinstance(doc.get("data"), dict):
        doc["data"] = with_dataset_defaults(doc["data"])
    return RunConfig.from_dict(doc)


def summary(trainer) -> dict:
    """The last snapshot's metrics and the run's outcome, JSON-ready (non-finite numbers as null)."""
    m = trainer.history[-1]
    doc = {"steps": trainer.step_count, "snapshots": len(trainer.history), **{f: getattr(m, f) for f in SUMMARY_FIELDS}}
    doc.update(
        diverged=trainer.diverged is not None,
        message=trainer.diverged,
        seconds=round(trainer.seconds, 3),
        device=str(trainer.device),
        config=trainer.cfg.to_dict(),
        events=[[step, text] for step, text in trainer.events],  # splits, removals, a data shift
    )
    from moe_core.experiments.trials import json_ready  # here, not at start-up: it loads numpy

    return json_ready(doc)


def _train(args: argparse.Namespace) -> None:
    cfg = build_config(args.config, args.set or [], args.steps)
    # torch loads here, not at start-up, so that --help and the listings answer at once
    from moe_core import runtime
    from moe_core.models import weights
    from moe_core.training.trainer import Trainer

    if args.save_weights:
        _check_weights_path(args.save_weights)
    runtime.configure(cfg.train.threads)
    trainer = Trainer(cfg, probe_size=None)
    if args.load_weights:
        weights.load_into(trainer.model, _read_file(args.load_weights), cfg)
    trainer.fit(cfg.train.steps, snapshot_every=args.snapshot_every)
    if args.save_weights:
        weights.save(trainer.model, trainer.cfg, args.save_weights, trainer.step_count)  # its experts as now
    doc = summary(trainer)
    print(_report(cfg, doc))
    if trainer.diverged:
        print(trainer.diverged, file=sys.stderr)
    if args.json:
        print(json.dumps(doc))


def _check_weights_path(path_text: str) -> None:
    path = Path(path_text)
    if path.suffix != ".safetensors":
        raise ConfigError(f"Weights are saved as .safetensors files, not '{path.name}'; name the file so.")
    if not path.parent.is_dir():
        raise ConfigError(f"The folder {path.parent} does not exist; create it or choose another path.")


def _read_file(path_text: str) -> bytes:
    try:
        return Path(path_text).read_bytes()
    except OSError as err:
        raise ConfigError(f"The file {path_text} cannot be read ({err.strerror}); check the path.") from None


def _sweep(args: argparse.Namespace) -> None:
    base = build_config(args.config, args.set or [], args.steps)
    from moe_core.experiments import results, sweep  # torch loads with the first run, not at start-up

    grid = sweep.parse_grid(args.grid or [])
    total = len(sweep.plan(base, grid, args.seeds))  # every combination checked before any run
    if args.out:
        results.check_path(args.out)
    show = not args.json and sys.stderr.isatty()
    progress = _bar if show else None
    result = sweep.sweep(
        base,
        grid,
        args.seeds,
        args.workers,
        args.history,
        progress,
        args.backend,
        args.address,
        batch_seeds=not args.one_by_one,
    )
    if show:
        print(file=sys.stderr)
    if args.out:
        results.write(result, args.out)
    if args.json:
        print(json.dumps({"grid": result.grid, "rows": [r.flat() for r in result.rows], "summary": result.summary}))
        return
    print(f"{total} runs: {len(result.summary)} combinations x {args.seeds} seeds, {base.train.steps} steps each")
    print(results.summary_table(result))
    if args.out:
        print(f"rows written to {args.out}")


def _bar(done: int, total: int) -> None:
    filled = round(30 * done / total)
    print(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{total} runs", end="", file=sys.stderr, flush=True)


def _report(cfg: RunConfig, doc: dict) -> str:
    acc = "n/a" if doc["test_accuracy"] is None else f"{doc['test_accuracy']:.3f}"
    lines = [
        run_label(cfg),
        f"steps {doc['steps']} in {doc['seconds']:.2f} s on {doc['device']}; train loss {_num(doc['train_loss'])}, "
        f"test loss {_num(doc['test_loss'])}, test accuracy {acc}",
    ]
    if doc["load_share"] is not None:
        share = " ".join(f"{s:.2f}" for s in doc["load_share"])
        lines.append(
            f"load share [{share}], entropy {doc['load_entropy']:.3f}, effective experts "
            f"{doc['effective_experts']:.2f}, dead {doc['dead_experts']}, drop rate {doc['drop_rate']:.3f}"
        )
    if doc["cluster_nmi"] is not None:
        lines.append(
            f"cluster NMI {doc['cluster_nmi']:.3f}, purity {doc['purity']:.3f}, "
            f"dispatch entropy {doc['dispatch_entropy']:.3f}"
        )
    lines += [f"step {step}: {text}" for step, text in doc["events"]]
    return "\n".join(lines)


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


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


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m moe_core", description="Train and inspect small mixture-of-experts models.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    train = commands.add_parser("train", help="train one configuration and print a summary")
    train.add_argument("--config", help="a RunConfig JSON file (defaults apply without one)")
    train.add_argument("--set", action="append", metavar="KEY=VALUE", help="set an option, e.g. model.top_k=2")
    train.add_argument("--steps", type=_steps, help="training steps (sets train.steps)")
    train.add_argument("--snapshot-every", type=_positive, help="steps between metric snapshots (default: at the end)")
    train.add_argument("--load-weights", metavar="PATH", help="start from weights saved as .safetensors")
    train.add_argument("--save-weights", metavar="PATH", help="save the trained weights as .safetensors")
    train.add_argument("--json", action="store_true", help="end with one JSON line of results")
    train.set_defaults(run=_train)
    grid = commands.add_parser("sweep", help="train every combination of a grid of options over seeds; a table")
    grid.add_argument("--config", help="the base RunConfig JSON file (defaults apply without one)")
    grid.add_argument("--set", action="append", metavar="KEY=VALUE", help="set an option of the base")
    grid.add_argument("--steps", type=_steps, help="training steps of every run (sets train.steps)")
    grid.add_argument("--grid", action="append", metavar="KEY=A,B,C", help="an option and its values to try")
    grid.add_argument("--seeds", type=_positive, default=1, help="seeds per combination (train.seed, +1, ...)")
    grid.add_argument("--workers", type=_positive, default=1, help="processes training at once")
    grid.add_argument("--backend", choices=["local", "ray"], default="local", help="where the runs train")
    grid.add_argument("--address", help="a Ray cluster's address (--backend ray; a local Ray without one)")
    grid.add_argument(
        "--one-by-one", action="store_true", help="train each seed on its own (default: a setting's seeds batched)"
    )
    grid.add_argument("--out", help="write the rows to a .csv, .json (with the summary) or .parquet file")
    grid.add_argument("--history", action="store_true", help="keep every snapshot's metrics (in .json output)")
    grid.add_argument("--json", action="store_true", help="print rows and summary as one JSON line, no progress")
    grid.set_defaults(run=_sweep)
    commands.add_parser("options", help="list every option: key, type, default, allowed values").set_defaults(
        run=lambda _: print("\n".join(describe_options()))
    )
    commands.add_parser("routers", help="list the routing rules and balance strategies").set_defaults(run=_routers)
    commands.add_parser("datasets", help="list the datasets and the options they read").set_defaults(
        run=lambda _: print("\n".join(describe_datasets()))
    )
    again = commands.add_parser("replicate", help="a theory paper's table, trained over seeds, beside its numbers")
    again.add_argument("name", choices=list(REPLICATIONS), help="the paper: " + ", ".join(REPLICATIONS))
    again.add_argument("--seeds", type=_positive, default=3, help="seeds per model (train.seed 0, 1, ...)")
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
    return parser


def main(argv: list[str] | None = None) -> None:
    cpu_paths.pin()  # before any command loads torch (and inherited by the app's server)
    parser = _parser()
    args, rest = parser.parse_known_args(argv)
    if rest and args.command != "app":
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    args.streamlit_args = rest
    try:
        args.run(args)
        sys.stdout.flush()
    except ConfigError as err:
        _fail(str(err))
    except BrokenPipeError:
        # The reader went away (`... | head -1`): stop quietly, as other command-line tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)


if __name__ == "__main__":
    main()
