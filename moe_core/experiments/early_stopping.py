"""A search's runs on Ray Tune with asynchronous successive halving (ASHA: Li et al. 2020, MLSys,
arXiv 1810.05934): each run reports its metrics at every rung of steps, and the scheduler stops the
runs that trail the others at that rung. Every trial is one of the sampled runs, named by its index
(Tune's own search space is not used), so the samples and each run's numbers are the product's.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence

from moe_core.experiments.trials import METRICS, Row, Trial, json_ready
from moe_core.measure.glossary import GLOSSARY
from moe_core.settings.config import ConfigError


def objective(metric: str) -> tuple[str, str]:
    """(metric, "min" or "max") from "test_loss" or "-cluster_nmi" (a leading minus: higher is better),
    else the glossary's better direction."""
    name = metric.removeprefix("-")
    if name not in METRICS:
        raise ConfigError(f"ASHA needs a metric a sweep keeps, not '{name}'; python -m moe_core metrics lists them.")
    if metric.startswith("-"):
        return name, "max"
    better = GLOSSARY[name].better
    if not better:
        raise ConfigError(f"Say which way {name} should go: '{name}' to lower it, '-{name}' to raise it.")
    return name, "max" if better == "higher" else "min"


def _train(config: dict, trials: Sequence[Trial], rungs: int) -> None:
    """One Tune trial: the sampled run `config["index"]`, reporting at each rung until it ends or is stopped."""
    from ray import tune

    from moe_core import runtime
    from moe_core.training.trainer import Trainer

    runtime.configure(1)
    trial = trials[config["index"]]
    trainer = Trainer(trial.cfg, probe_size=None)
    total = trial.cfg.train.steps
    every = max(1, -(-total // rungs))
    while True:
        trainer.fit(min(every, total - trainer.step_count))
        final = trainer.history[-1]
        report = {name: json_ready(getattr(final, name)) for name in METRICS}
        tune.report({**report, "step": trainer.step_count, "seconds": trainer.seconds,
                     "diverged": trainer.diverged or "", "diverged_at": trainer.diverged_at or -1})  # fmt: skip
        if trainer.step_count >= total or trainer.diverged:
            return


def asha_rows(trials: Sequence[Trial], metric: str, rungs: int, workers: int, address: str | None) -> list[Row]:
    """Every trial's row, trained on Ray Tune under ASHA; a stopped run's row holds the step it reached
    and its metrics there, and its history the reports at each rung."""
    try:
        import ray
        from ray import tune
        from ray.tune.schedulers import ASHAScheduler
    except ImportError:
        raise ConfigError("Early stopping runs on Ray Tune: pip install 'moe-explorer[ray]'.") from None
    name, mode = objective(metric)
    total = max(trial.cfg.train.steps for trial in trials)
    every = max(1, -(-total // rungs))
    # Tune's own console report (a table of trials, a TensorBoard hint) would bury the product's one table
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    started_here = not ray.is_initialized()
    if started_here:
        local = {"num_cpus": workers} if address is None else {}
        ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level="ERROR", **local)
    try:
        scheduler = ASHAScheduler(time_attr="step", max_t=total, grace_period=every, reduction_factor=2)
        with tempfile.TemporaryDirectory() as folder:
            tuner = tune.Tuner(
                tune.with_parameters(_train, trials=list(trials), rungs=rungs),
                param_space={"index": tune.grid_search(list(range(len(trials))))},
                tune_config=tune.TuneConfig(metric=name, mode=mode, scheduler=scheduler),
                run_config=tune.RunConfig(storage_path=folder, verbose=0),
            )
            grid = tuner.fit()
            found = {result.config["index"]: result for result in grid}
            return [_row(trials[i], found[i]) for i in sorted(found) if found[i].error is None]
    finally:
        if started_here:
            ray.shutdown()


def _row(trial: Trial, result) -> Row:
    last = result.metrics
    reports = result.metrics_dataframe
    history = [
        {"step": int(r["step"]), **{m: json_ready(r[m]) for m in METRICS if m in r}} for _, r in reports.iterrows()
    ]
    return Row(
        trial.settings,
        trial.seed,
        int(last["step"]),
        last["diverged"] or None,
        float(last["seconds"]),
        {name: last.get(name) for name in METRICS},
        history,
        None if last["diverged_at"] < 0 else int(last["diverged_at"]),
        name=trial.name,
    )
