"""`python -m moe_core train`: one configuration trained and summarised; its snapshots printed and
written (--snapshot-every, --out), its weights or the whole run saved, a saved run trained on."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from moe_core.cli.common import build_config, note, positive, read_json_file, steps, unused_notes
from moe_core.settings.config import ConfigError, RunConfig, run_label

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
SNAPSHOT_COLUMNS = ("train_loss", "test_loss", "test_accuracy", "load_entropy", "dead_experts", "cluster_nmi")


def add(commands) -> None:
    train = commands.add_parser("train", help="train one configuration and print a summary")
    train.add_argument("--config", help="a RunConfig JSON file (defaults apply without one)")
    train.add_argument("--set", action="append", metavar="KEY=VALUE", help="set an option, e.g. model.top_k=2")
    train.add_argument("--steps", type=steps, help="training steps (sets train.steps)")
    train.add_argument("--snapshot-every", type=positive, help="steps between metric snapshots, printed as a table")
    train.add_argument("--out", metavar="PATH", help="write every snapshot to a .csv, .json or .parquet file")
    train.add_argument("--load-weights", metavar="PATH", help="start from weights saved as .safetensors")
    train.add_argument("--save-weights", metavar="PATH", help="save the trained weights as .safetensors")
    train.add_argument("--save-run", metavar="PATH", help="save the whole run (.safetensors) to train on later")
    train.add_argument("--resume", metavar="PATH", help="train a run saved with --save-run --steps more steps")
    train.add_argument("--json", action="store_true", help="end with one JSON line of results")
    train.set_defaults(run=run)


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


def run(args: argparse.Namespace) -> None:
    if args.resume and (args.config or args.set or args.load_weights):
        raise ConfigError("A resumed run keeps its own settings; give --resume with --steps only.")
    if args.resume and args.steps is None:
        raise ConfigError("Say how many more steps the resumed run trains: --resume PATH --steps N.")
    cfg, chosen = build_config(read_json_file(args.config) if args.config else {}, args.set or [], args.steps)
    for text in unused_notes(cfg, chosen):
        note(text)
    for path in (args.save_weights, args.save_run):
        if path:
            _check_path(path)
    if args.out:
        from moe_core.experiments.results import check_path

        check_path(args.out)
    # torch loads here, not at start-up, so that --help and the listings answer at once
    from moe_core import runtime
    from moe_core.training.trainer import Trainer

    runtime.configure(cfg.train.threads)
    trainer = Trainer.load(args.resume, probe_size=None) if args.resume else Trainer(cfg, probe_size=None)
    if args.load_weights:
        from moe_core.models import weights

        weights.load_into(trainer.model, _read_file(args.load_weights), cfg)
    before = len(trainer.history)
    trainer.fit(args.steps if args.resume else cfg.train.steps, snapshot_every=args.snapshot_every)
    _save(trainer, args)
    doc = summary(trainer)
    print(_report(trainer.cfg, doc))
    if args.snapshot_every:
        print(snapshot_table(trainer.history[before:]))
    if trainer.diverged:
        print(trainer.diverged, file=sys.stderr)
    if args.json:
        print(json.dumps(doc))


def _save(trainer, args: argparse.Namespace) -> None:
    if args.save_weights:
        from moe_core.models import weights

        weights.save(trainer.model, trainer.cfg, args.save_weights, trainer.step_count)  # its experts as now
    if args.save_run:
        trainer.save(args.save_run)
    if args.out:
        from moe_core.experiments.results import write_history

        write_history(trainer.history, trainer.cfg, args.out)


def snapshot_table(history: list) -> str:
    """The snapshots as aligned text, one line per step."""
    header = ["step", *SNAPSHOT_COLUMNS]
    lines = [[str(m.step), *(_cell(getattr(m, name)) for name in SNAPSHOT_COLUMNS)] for m in history]
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]
    return "\n".join("  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) for row in [header, *lines])


def _cell(value) -> str:
    if value is None:
        return "n/a"
    return str(value) if isinstance(value, int) else f"{value:.4f}"


def _check_path(path_text: str) -> None:
    path = Path(path_text)
    if path.suffix != ".safetensors":
        raise ConfigError(f"Weights and runs are saved as .safetensors files, not '{path.name}'; name the file so.")
    if not path.parent.is_dir():
        raise ConfigError(f"The folder {path.parent} does not exist; create it or choose another path.")


def _read_file(path_text: str) -> bytes:
    try:
        return Path(path_text).read_bytes()
    except OSError as err:
        raise ConfigError(f"The file {path_text} cannot be read ({err.strerror}); check the path.") from None


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
