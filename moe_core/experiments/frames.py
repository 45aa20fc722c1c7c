"""A sweep's results as pandas DataFrames, for a notebook: the rows (settings as columns) and the
histories in long format (one row per run and snapshot); each frame's `attrs` holds the provenance."""

from __future__ import annotations

import pandas as pd

from moe_core.experiments.histories import history_records
from moe_core.experiments.sweep import SweepResult


def rows_frame(result: SweepResult) -> pd.DataFrame:
    frame = pd.DataFrame([row.flat() for row in result.rows])
    frame.attrs["provenance"] = result.provenance
    return frame


def history_frame(result: SweepResult) -> pd.DataFrame:
    frame = pd.DataFrame(history_records(result))
    frame.attrs["provenance"] = result.provenance
    return frame
