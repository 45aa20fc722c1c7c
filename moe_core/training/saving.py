"""A run saved mid-training and resumed, bit for bit: the weights, the optimiser's state, the step,
the random generators (batches, gate noise, online data), the history and the events, in one
safetensors file (never a pickle: reading it cannot run code).

    trainer.save("run.safetensors")
    again = Trainer.load("run.safetensors")  # trains on exactly as `trainer` would

The optimiser's state dict is a tree of tensors and plain values; its tensors go into the file as
`optimizer.0`, `optimizer.1`, ... and the tree, with those names in their places, into the metadata as
JSON, with dict keys kept as they are (torch numbers the parameters' states with ints).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import safetensors.torch
import torch

from moe_core.errors import ConfigError
from moe_core.measure.metrics import Metrics
from moe_core.models import weights
from moe_core.settings.config import RunConfig

if TYPE_CHECKING:
    from moe_core.training.trainer import Trainer

STATE_KEY = "moe_explorer.run_state"  # the run's state beside the weights' own metadata
FORMAT = 1


def to_bytes(trainer: Trainer) -> bytes:
    tensors = {f"model.{key}": value.detach().cpu().contiguous() for key, value in trainer.model.state_dict().items()}
    tree = _encode(trainer.optimizer.state_dict(), tensors)
    tensors["rng.torch"] = trainer.generator.get_state()
    if trainer._last_first is not None:
        tensors["probe.last_first"] = torch.from_numpy(np.ascontiguousarray(trainer._last_first, dtype=np.int64))
    state = {
        "format": FORMAT,
        "settings": trainer.settings.to_dict(),
        "step": trainer.step_count,
        "seconds": trainer.seconds,
        "optimizer": tree,
        "rng_online": trainer._online.bit_generator.state,
        "history": [m.to_dict() for m in trainer.history],
        "events": [list(event) for event in trainer.events],
        "diverged": trainer.diverged,
        "diverged_at": trainer.diverged_at,
    }
    metadata = {weights.CONFIG_KEY: trainer.cfg.to_json(), weights.STEP_KEY: str(trainer.step_count),
                STATE_KEY: json.dumps(state)}  # fmt: skip
    return safetensors.torch.save(tensors, metadata=metadata)


def save(trainer: Trainer, path: str | Path) -> None:
    Path(path).write_bytes(to_bytes(trainer))


def load(path: str | Path, **trainer_args: Any) -> Trainer:
    """The run a checkpoint file holds, ready to train on; `trainer_args` as for Trainer (data,
    probe_size, kernels). A weights file without the run's state, or any other file, is one sentence."""
    from moe_core.training.trainer import Trainer

    try:
        raw = Path(path).read_bytes()
    except OSError as err:
        raise ConfigError(f"The saved run {path} cannot be read ({err.strerror}); check the path.") from None
    tensors, metadata = weights.read(raw)
    if STATE_KEY not in metadata:
        raise ConfigError(f"{Path(path).name} holds weights but no run state; load it with --load-weights instead.")
    state = json.loads(metadata[STATE_KEY])
    if state.get("format") != FORMAT:
        raise ConfigError(f"{Path(path).name} is a saved run of another format ({state.get('format')}).")
    trainer = Trainer(RunConfig.from_dict(state["settings"]), **trainer_args)
    _restore(trainer, RunConfig.from_json(metadata[weights.CONFIG_KEY]), tensors, state)
    return trainer


def _restore(trainer: Trainer, cfg: RunConfig, tensors: dict[str, torch.Tensor], state: dict) -> None:
    from moe_core.training.optimizers import run_optimizer

    if cfg.model.n_experts != trainer.cfg.model.n_experts:  # experts were split or removed: that model's shapes
        trainer.cfg = trainer.cfg.replace(**{"model.n_experts": cfg.model.n_experts})
        trainer.model = trainer.new_model(trainer.cfg)
        trainer.model.router.generator = trainer.generator
        trainer.optimizer = run_optimizer(trainer.cfg, trainer.model)
    if cfg != trainer.cfg:
        trainer.apply_live(cfg)  # settings changed while it trained (learning rate, noise, drawn centres)
    model_state = {key.removeprefix("model."): value for key, value in tensors.items() if key.startswith("model.")}
    trainer.model.load_state_dict(model_state)
    trainer.optimizer.load_state_dict(_decode(state["optimizer"], tensors))
    trainer.generator.set_state(tensors["rng.torch"])
    trainer._online.bit_generator.state = state["rng_online"]
    last = tensors.get("probe.last_first")
    trainer._last_first = None if last is None else last.numpy()
    trainer.step_count, trainer.seconds = state["step"], state["seconds"]
    trainer.history = [_metrics(values) for values in state["history"]]
    trainer.events = [(step, text) for step, text in state["events"]]
    trainer.diverged, trainer.diverged_at = state["diverged"], state["diverged_at"]
    trainer.follow_shift(trainer.step_count)
    trainer.drop_checkpoints()


def _metrics(values: dict) -> Metrics:
    """A snapshot back from JSON: its lists the tuples Metrics holds."""
    return Metrics(**{key: _tuples(value) for key, value in values.items()})


def _tuples(value):
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _encode(value, tensors: dict[str, torch.Tensor]):
    """A state dict as JSON-ready tree, its tensors moved into `tensors` under optimizer.N."""
    if isinstance(value, torch.Tensor):
        name = f"optimizer.{sum(key.startswith('optimizer.') for key in tensors)}"
        tensors[name] = value.detach().cpu().contiguous()
        return {"tensor": name}
    if isinstance(value, dict):
        return {"dict": [[key, _encode(item, tensors)] for key, item in value.items()]}
    if isinstance(value, (list, tuple)):
        return {"list" if isinstance(value, list) else "tuple": [_encode(item, tensors) for item in value]}
    return {"value": value}


def _decode(node: dict, tensors: dict[str, torch.Tensor]):
    ((kind, body),) = node.items()
    if kind == "tensor":
        return tensors[body]
    if kind == "dict":
        return {key: _decode(item, tensors) for key, item in body}
    if kind in ("list", "tuple"):
        items = [_decode(item, tensors) for item in body]
        return items if kind == "list" else tuple(items)
    return body
