"""`python -m moe_core sweep`: a grid of options (or a random search over ranges) trained over seeds,
from flags or a sweep file; a table of means with labelled intervals, paired comparisons against a
baseline, and a results file that carries its provenance and resumes where it stopped."""

from __future__ import annotations

import argparse
import dataclasses
import json
import signal
import sys
import threading

from moe_core.cli.common import build_config, note, positive, read_json_file, steps, unused_notes
from moe_core.experiments import sweep_file
from moe_core.settings.config import ConfigError, RunConfig, config_changes


def add(commands) -> None:
    grid = commands.add_parser("sweep", help="train every combination of a grid of options over seeds; a table")
    grid.add_argument("--config", help="a sweep file (base settings, grid, seeds...) or a RunConfig JSON file")
    grid.add_argument("--set", action="append", metavar="KEY=VALUE", help="set an option of the base")
    grid.add_argument("--steps", type=steps, help="training steps of every run (sets train.steps)")
    grid.add_argument("--grid", action="append", metavar="KEY=A,B,C", help="an option and its values to try")
    grid.add_argument("--seeds", type=positive, help="seeds per combination (train.seed, +1, ...; default 1)")
    grid.add_argument("--workers", type=positive, default=1, help="processes training at once")
    grid.add_argument("--backend", choices=["local", "ray"], default="local", help="where the runs train")
    grid.add_argument("--address", help="a Ray cluster's address (--backend ray; a local Ray without one)")
    grid.add_argument(
        "--one-by-one", action="store_true", help="train each seed on its own (default: a setting's seeds batched)"
    )
    grid.add_argument("--out", help="write the rows, with their provenance, to a .csv, .json or .parquet file")
    grid.add_argument("--history", action="store_true", help="keep every run's snapshots (a .history file beside)")
    grid.add_argument("--maps", action="store_true", help="keep each run's final routing map (for the Sweep page)")
    grid.add_argument("--metrics", help="the table's metrics, comma-separated (python -m moe_core metrics lists them)")
    grid.add_argument("--baseline", action="append", metavar="KEY=VALUE,...", help="compare every combination to it")
    grid.add_argument("--test", choices=sweep_file.TESTS, help="the paired test the verdicts read (default t)")
    grid.add_argument("--resume", metavar="FILE", help="a results file: train only the runs it lacks and add them")
    grid.add_argument("--name", default="", help="the sweep's name, kept in its provenance")
    grid.add_argument("--tag", action="append", metavar="TAG", help="a tag for every row (repeatable)")
    grid.add_argument("--search", choices=["random"], help="draw the settings at random instead of a grid")
    grid.add_argument("--samples", type=positive, help="random search: how many settings to draw (default 8)")
    grid.add_argument("--range", action="append", metavar="KEY=LOW:HIGH[:log]", help="random search: a range")
    grid.add_argument("--asha", metavar="METRIC", help="random search: stop trailing runs early on Ray Tune (ASHA)")
    grid.add_argument("--json", action="store_true", help="print provenance, rows and summary as one JSON line")
    grid.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    from moe_core.experiments import results  # scipy and scikit-learn load here, not at start-up

    doc = read_json_file(args.config, "sweep file") if args.config else {}
    base_doc, spec = sweep_file.split(doc)
    resumed = results.read(results.check_path(args.resume, "come from")) if args.resume else None
    if resumed is not None and resumed.base is not None:  # the file's sweep, which the flags may only extend
        told = resumed.provenance
        base_doc = {
            section: {**values, **base_doc.get(section, {})} for section, values in resumed.base.to_dict().items()
        }
        spec = dataclasses.replace(spec, grid=spec.grid or resumed.grid, seeds=spec.seeds or told.get("seeds"),
                                   name=spec.name or told.get("name", ""))  # fmt: skip
    base, chosen = build_config(base_doc, args.set or [], args.steps)
    from moe_core.experiments import sweep  # torch loads with the first run, not at start-up

    grid = {**spec.grid, **sweep.parse_grid(args.grid or [])}
    seeds = args.seeds or spec.seeds or 1
    metrics = sweep_file.check_metrics(args.metrics.split(",")) if args.metrics else spec.metrics or list(results.SHOWN)
    searching = args.search or spec.search
    if searching:
        _check_search(args, resumed, spec)
    else:
        for flag in ("samples", "range", "asha"):
            if getattr(args, flag):
                raise ConfigError(f"--{flag} is for a random search; add --search random.")
    if resumed is not None:
        _check_same_base(resumed, base)
    search = _search(args, spec) if searching else None
    trials = _trials(base, grid, seeds, search)
    baseline = _baseline(args, spec, grid)
    for text in [*unused_notes(base, chosen), *sweep.unused_settings(grid, trials).values()]:
        note(text)
    out = args.out or args.resume
    if out:
        results.check_path(out)
    result, stopped = _train(args, spec, base, grid, seeds, resumed, search)
    written = results.write(result, out) if out and result.rows else []
    kept = 0 if resumed is None else sum(row in resumed.rows for row in result.rows)
    _print(args, result, metrics, baseline, args.test or spec.test, len(trials), written, stopped)
    if kept and not args.json:
        print(f"resumed from {args.resume}: {kept} runs kept from the file, {len(result.rows) - kept} trained now")


def _check_search(args: argparse.Namespace, resumed, spec) -> None:
    if resumed is not None:
        raise ConfigError("A random search cannot be resumed; run it again (its samples come from the base seed).")
    if args.baseline or spec.baseline:
        raise ConfigError("A random search has no shared baseline to pair with; compare a grid's settings instead.")


def _check_same_base(resumed, base: RunConfig) -> None:
    """The file's rows were trained from this base: else resuming would mix two sweeps in one file."""
    if resumed.base is None:
        raise ConfigError("The file has no provenance, so nothing says which settings its rows were trained with.")
    changes = config_changes(resumed.base, base)
    if changes:
        key, (old, new) = next(iter(changes.items()))
        raise ConfigError(
            f"The file's rows were trained with {key}={json.dumps(old)} where this sweep has {json.dumps(new)}; "
            "resume with the file's settings (it holds them: --resume FILE alone finishes its sweep)."
        )


def _search(args, spec) -> dict:
    """A random search's ranges, sample count and ASHA metric, from the flags over the sweep file."""
    return {
        "ranges": {**spec.ranges, **dict(_split(text) for text in args.range or [])},
        "samples": args.samples or spec.samples or 8,
        "asha": args.asha or ("test_loss" if spec.asha else None),
    }


def _trials(base: RunConfig, grid: dict, seeds, search: dict | None) -> list:
    """Every run the sweep or search plans, checked before any trains."""
    from moe_core.experiments import search as searching
    from moe_core.experiments import sweep

    if search is not None:
        return searching.sample(base, search["ranges"], grid, search["samples"], seeds)
    return sweep.plan(base, grid, seeds)


def _split(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise ConfigError(f"The range '{text}' needs the form section.key=low:high, e.g. train.lr=0.001:0.1:log.")
    key, value = text.split("=", 1)
    return key.strip(), value.strip()


def _baseline(args, spec, grid) -> dict | None:
    from moe_core.experiments import paired

    if args.baseline:
        return paired.parse_baseline(args.baseline, grid)
    if spec.baseline:
        return paired.parse_baseline([f"{k}={json.dumps(v)}" for k, v in spec.baseline.items()], grid)
    return None


def _train(args, spec, base, grid, seeds, resumed, search: dict | None):
    """The result, and whether Ctrl-C stopped it (then it holds the runs that finished)."""
    from moe_core.experiments import search as searching
    from moe_core.experiments import sweep

    asked = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: asked.set()) if _main_thread() else None
    show = not args.json and sys.stderr.isatty()
    running = dict(
        workers=args.workers, with_history=args.history, progress=_bar if show else None, backend=args.backend,
        address=args.address, with_map=args.maps, stop=asked.is_set, batch_seeds=not args.one_by_one,
        tags=[*spec.tags, *(args.tag or [])],
    )  # fmt: skip
    try:
        if search is not None:
            result = searching.random_search(
                base, choices=grid, seeds=seeds, name=args.name or spec.name, **search, **running
            )
        else:
            done = resumed.rows if resumed is not None else ()
            result = sweep.sweep(base, grid, seeds, done=done, name=args.name or spec.name, **running)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    if show:
        print(file=sys.stderr)
    return result, asked.is_set()


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _print(args, result, metrics, baseline, test: str, total, written, stopped) -> None:
    from moe_core.experiments import paired, results

    comparisons = paired.compare(result, baseline, metrics) if baseline else []
    if args.json:
        doc = {"provenance": result.provenance, "grid": result.grid, "rows": [r.flat() for r in result.rows],
               "summary": result.summary, "paired": [c.__dict__ for c in comparisons]}  # fmt: skip
        print(json.dumps(doc))
        return
    seeds = len(result.provenance["seeds"])
    kind = "samples" if "search" in result.provenance else "combinations"
    steps = result.base.train.steps
    print(f"{total} runs: {total // seeds} {kind} x {seeds} seed{'s' * (seeds > 1)}, {steps} steps each")
    print(results.summary_table(result, metrics))
    if comparisons:
        from moe_core.experiments.trials import setting_label

        named = "t-test" if test == "t" else "Wilcoxon signed-rank test"
        print(f"\nagainst {setting_label(baseline)}, seed by seed: the mean difference [its 95% interval, "
              f"Student's t], the paired {named}'s p-value adjusted for the {len(comparisons) // len(metrics)} "
              "comparisons of each metric (Holm)")  # fmt: skip
        print(paired.table(comparisons, test))
    _print_stops(result, total)
    if stopped:
        where = f"; python -m moe_core sweep --resume {written[0]} trains the rest" if written else ""
        print(f"stopped after {len(result.rows)} of {total} runs{where}")
    for path in written:
        print(f"{'history' if path.stem.endswith('.history') else 'rows'} written to {path}")


def _print_stops(result, total: int) -> None:
    """Which runs early stopping ended before their last step."""
    planned = result.base.train.steps
    early = [row for row in result.rows if row.steps < planned and row.diverged is None]
    if result.provenance.get("search", {}).get("asha"):
        print(f"ASHA stopped {len(early)} of {len(result.rows)} runs early: "
              + (", ".join(f"{row.name} at step {row.steps}" for row in early) or "none"))  # fmt: skip


def _bar(done: int, total: int) -> None:
    filled = round(30 * done / total)
    print(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{total} runs", end="", file=sys.stderr, flush=True)
