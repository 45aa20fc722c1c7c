"""A trained model's weights as a safetensors file, with the run's configuration in its metadata, and
back into a model built from a configuration: every key, shape and dtype checked first, so a file
that does not fit changes nothing and says why in one sentence.

Safetensors only (design.md section 9: never unpickle): the format is a JSON header and raw tensor
bytes, so reading a file cannot run code. Shapes follow the model's own names, e.g. experts.w_in_EDH
is [E, D, H] (E experts, D input dim, H expert hidden).
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import safetensors
import safetensors.torch
import torch
from torch import nn

from moe_core.errors import ConfigError
from moe_core.settings.config import RunConfig, config_changes
from moe_core.settings.table import LIVE_KEYS

CONFIG_KEY = "moe_explorer.config"  # the run's configuration JSON in the file's metadata
STEP_KEY = "moe_explorer.step"
NOT_WEIGHTS = "choose a .safetensors file saved by MoE Explorer"
# The data settings that can change the input or output width; the others (noise, sizes, seeds) cannot.
DATA_SHAPE_KEYS = {"data.name", "data.dim", "data.n_clusters", "data.csv_path", "data.target"}
HINT_LIMIT = 3  # settings named in a sentence


def to_bytes(model: nn.Module, cfg: RunConfig, step: int | None = None) -> bytes:
    """The model's state dict as safetensors bytes, the configuration (and step) in the metadata."""
    metadata = {CONFIG_KEY: cfg.to_json()}
    if step is not None:
        metadata[STEP_KEY] = str(step)
    tensors = {key: value.detach().cpu().contiguous() for key, value in model.state_dict().items()}
    return safetensors.torch.save(tensors, metadata=metadata)


def save(model: nn.Module, cfg: RunConfig, path: str | Path, step: int | None = None) -> None:
    Path(path).write_bytes(to_bytes(model, cfg, step))


def read(raw: bytes) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """The tensors and metadata of safetensors bytes; anything else raises ConfigError."""
    try:
        tensors = safetensors.torch.load(bytes(raw))
    except (safetensors.SafetensorError, ValueError, TypeError) as err:
        detail = str(err).removeprefix("Error while deserializing: ")
        raise ConfigError(f"The file is not a safetensors file of weights ({detail}); {NOT_WEIGHTS}.") from None
    (length,) = struct.unpack("<Q", raw[:8])  # the format: a little-endian header length, then the header
    metadata = json.loads(raw[8 : 8 + length]).get("__metadata__") or {}
    return tensors, metadata


def saved_config(raw: bytes) -> RunConfig | None:
    """The configuration a weights file was saved with; None when it names none."""
    _, metadata = read(raw)
    text = metadata.get(CONFIG_KEY)
    if text is None:
        return None
    try:
        return RunConfig.from_json(text)
    except ConfigError as err:
        raise ConfigError(f"The weights file's configuration cannot be used: {err}") from None


def load_into(model: nn.Module, raw: bytes, cfg: RunConfig | None = None) -> None:
    """Copy a weights file into `model` (built from `cfg`, which phrases the errors) once every key,
    shape and dtype matches the model's; a file that does not fit raises ConfigError and changes nothing."""
    tensors, metadata = read(raw)
    expected = model.state_dict()
    hint = _hint(metadata.get(CONFIG_KEY), cfg)
    _check_keys(list(tensors), list(expected), hint)
    _check_expert_count(tensors, expected)
    for key, wanted in expected.items():
        _check_tensor(key, tensors[key], wanted, hint)
    with torch.no_grad():
        model.load_state_dict(tensors)


def _check_keys(found: list[str], wanted: list[str], hint: str) -> None:
    """Keys the model has and the file lacks, then keys the file has and the model lacks, in their own order."""
    for extra, words in (
        ([k for k in wanted if k not in found], "lacks"),
        ([k for k in found if k not in wanted], "has"),
    ):
        if extra:
            more = f" (and {len(extra) - 1} more)" if len(extra) > 1 else ""
            whose = "has" if words == "lacks" else "lacks"
            raise ConfigError(f"The weights file {words} {extra[0]}{more}, which this run's model {whose}; {hint}.")


def _check_expert_count(tensors: dict[str, torch.Tensor], expected: dict[str, torch.Tensor]) -> None:
    """The expert count in words, where it is the whole difference in the experts' first weights (their
    first axis is the expert: experts.w_in_EDH, or a patch expert's experts.w_ELH)."""
    key = next((k for k in expected if k.startswith("experts.")), None)
    if key is None:
        return
    found, wanted = list(tensors[key].shape), list(expected[key].shape)
    if found[0] != wanted[0] and found[1:] == wanted[1:]:
        raise ConfigError(
            f"The weights file has {found[0]} experts' weights ({key} {found}) but this run has {wanted[0]} "
            f"experts; set model.n_experts to {found[0]} or load another file."
        )


def _check_tensor(key: str, found: torch.Tensor, wanted: torch.Tensor, hint: str) -> None:
    if found.is_floating_point() != wanted.is_floating_point():
        raise ConfigError(
            f"The weights file's {key} holds {str(found.dtype).removeprefix('torch.')} values where this run's "
            f"model has {str(wanted.dtype).removeprefix('torch.')}; {NOT_WEIGHTS}."
        )
    if found.shape != wanted.shape:
        raise ConfigError(
            f"The weights file's {key} is {list(found.shape)} but this run's is {list(wanted.shape)}; {hint}."
        )
    if found.is_floating_point() and not bool(torch.isfinite(found).all()):
        raise ConfigError(
            f"The weights file's {key} holds NaN or infinite values; load weights saved before training diverged."
        )


def _hint(saved_json: str | None, cfg: RunConfig | None) -> str:
    """What to do about a file that does not fit: the settings it was saved with that differ from this
    run's and change shapes, where the file names its configuration."""
    generic = "load weights saved from a run with the same model and data settings"
    if saved_json is None or cfg is None:
        return generic
    try:
        saved = RunConfig.from_json(saved_json)
    except ConfigError:
        return generic
    changes = [
        f"{key} {json.dumps(new)} (this run: {json.dumps(old)})"
        for key, (old, new) in config_changes(cfg, saved).items()
        if key in DATA_SHAPE_KEYS or (key.startswith("model.") and key not in LIVE_KEYS)
    ]
    if not changes:
        return generic
    more = f" and {len(changes) - HINT_LIMIT} more" if len(changes) > HINT_LIMIT else ""
    said = ", ".join(changes[:HINT_LIMIT]) + more
    return f"it was saved with {said}; set {'that' if len(changes) == 1 else 'those'} or load another file"
