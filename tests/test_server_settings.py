"""The server's settings (app/.streamlit/config.toml, read by `streamlit run` from the script's folder
and installed with the app): uploads no larger than the product reads, Streamlit's protections kept."""

import tomllib
from pathlib import Path

from moe_core.datasets.csv_file import MAX_BYTES

CONFIG = tomllib.loads((Path(__file__).resolve().parent.parent / "app" / ".streamlit" / "config.toml").read_text())


def test_uploads_stop_at_the_largest_csv_the_product_reads():
    assert CONFIG["server"]["maxUploadSize"] * 2**20 == MAX_BYTES


def test_streamlits_protections_stay_on():
    server = CONFIG["server"]
    assert server["enableXsrfProtection"] is True
    assert server.get("enableCORS", True) is True  # not turned off
    assert CONFIG["browser"]["gatherUsageStats"] is False  # the product makes no calls out


def test_the_source_watcher_is_off_so_that_script_runs_leave_the_event_loop_alone():
    assert CONFIG["server"]["fileWatcherType"] == "none" and CONFIG["server"]["runOnSave"] is False
