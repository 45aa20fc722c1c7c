"""Command line: `python -m moe_core train|datasets`. Bad input exits 2 with one `error:` line."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from moe_core.catalog import describe_datasets, fill_dataset_defaults
from moe_core.config import ConfigError, RunConfig, parse_assignment
from moe_core.train import Trainer


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's usage block would be more than one line
        _fail(f"{message} (see python -m moe_core --help)")


def _fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def build_config(config_path: str | None, assignments: list[str], steps: int | None) -> RunConfig:
    """The config file (or the defaults), then --set overrides, then --steps; dataset defaults fill the rest."""
    doc: dict = {}
    if config_path:
        path = Path(config_path)
        if not path.is_file():
            raise ConfigError(f"The config file '{config_path}' does not exist.")
        try:
            doc = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ConfigError(f"The config file '{config_path}' is not valid JSON ({err}).") from None
        if not isinstance(doc, dict):
            raise ConfigError(f"The config file '{config_path}' must hold a JSON object.")
    for key, value in (parse_assignment(a) for a in assignments):
        section, name = key.split(".", 1)
        if not isinstance(doc.setdefault(section, {}), dict):
            raise ConfigError(f"The '{section}' part of the configuration must be a JSON object.")
        doc[section][name] = value
    if steps is not None:
        doc.setdefault("train", {})["steps"] = steps
    if isinstance(doc.get("data"), dict):
        doc["data"] = fill_dataset_defaults(doc["data"])
    return RunConfig.from_dict(doc)


def summary(trainer: Trainer) -> dict:
    m = trainer.history[-1]
    fields = (
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
    doc = {"steps": trainer.step_count, **{f: getattr(m, f) for f in fields}}
    doc.update(
        diverged=trainer.diverged is not None,
        message=trainer.diverged,
        seconds=round(trainer.seconds, 3),
        device=str(trainer.device),
        config=trainer.cfg.to_dict(),
    )
    return _finite(doc)


def _finite(value):
    """JSON has no NaN: non-finite numbers become null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _train(args: argparse.Namespace) -> None:
    cfg = build_config(args.config, args.set or [], args.steps)
    trainer = Trainer(cfg, probe_size=None)
    trainer.fit(cfg.train.steps, snapshot_every=args.snapshot_every)
    doc = summary(trainer)
    acc = "n/a" if doc["test_accuracy"] is None else f"{doc['test_accuracy']:.3f}"
    print(
        f"{cfg.data.name}: {cfg.model.arch} with {cfg.model.n_experts} experts, top-{cfg.model.top_k}, "
        f"router {cfg.model.router}, balance {cfg.model.balance}"
    )
    print(
        f"steps {doc['steps']} in {doc['seconds']:.2f} s on {doc['device']}; "
        f"train loss {doc['train_loss']:.4f}, test loss {doc['test_loss']:.4f}, test accuracy {acc}"
    )
    if doc["load_share"] is not None:
        share = " ".join(f"{s:.2f}" for s in doc["load_share"])
        print(
            f"load share [{share}], entropy {doc['load_entropy']:.3f}, "
            f"effective experts {doc['effective_experts']:.2f}, dead {doc['dead_experts']}, "
            f"drop rate {doc['drop_rate']:.3f}"
        )
    if doc["cluster_nmi"] is not None:
        print(
            f"cluster NMI {doc['cluster_nmi']:.3f}, purity {doc['purity']:.3f}, "
            f"dispatch entropy {doc['dispatch_entropy']:.3f}"
        )
    if trainer.diverged:
        print(trainer.diverged, file=sys.stderr)
    if args.json:
        print(json.dumps(doc))


def main(argv: list[str] | None = None) -> None:
    parser = _Parser(prog="python -m moe_core", description="Train and inspect small mixture-of-experts models.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    train = commands.add_parser("train", help="train one configuration and print a summary")
    train.add_argument("--config", help="a RunConfig JSON file (defaults apply without one)")
    train.add_argument("--set", action="append", metavar="KEY=VALUE", help="override, e.g. model.top_k=2")
    train.add_argument("--steps", type=int, help="training steps (overrides train.steps)")
    train.add_argument("--snapshot-every", type=int, help="steps between history snapshots")
    train.add_argument("--json", action="store_true", help="end with one JSON line of results")
    commands.add_parser("datasets", help="list the datasets and their knobs")
    args = parser.parse_args(argv)
    try:
        if args.command == "datasets":
            print("\n".join(describe_datasets()))
        else:
            _train(args)
    except ConfigError as err:
        _fail(str(err))


if __name__ == "__main__":
    main()
