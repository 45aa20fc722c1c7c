"""The command line: `python -m moe_core` (or `moe-explorer`) train | sweep | options | routers |
datasets | metrics | replicate | lessons | lesson | app.

Bad input exits with code 2 and one `error:` line; an option set that does nothing under the chosen
router, balance strategy or dataset gets a `note:` line. Listings and `--help` import no torch, so
they answer at once; `train` and `sweep` load it when they start.
"""

from __future__ import annotations

import os
import sys

from moe_core import cpu_paths
from moe_core.cli import listings, sweep, train
from moe_core.cli.common import Parser, fail
from moe_core.settings.config import ConfigError


def parser() -> Parser:
    top = Parser(prog="python -m moe_core", description="Train and inspect small mixture-of-experts models.")
    commands = top.add_subparsers(dest="command", required=True, parser_class=Parser)
    train.add(commands)
    sweep.add(commands)
    listings.add(commands)
    return top


def main(argv: list[str] | None = None) -> None:
    cpu_paths.pin()  # before any command loads torch (and inherited by the app's server)
    top = parser()
    args, rest = top.parse_known_args(argv)
    if rest and args.command != "app":
        top.error(f"unrecognized arguments: {' '.join(rest)}")
    args.streamlit_args = rest
    try:
        args.run(args)
        sys.stdout.flush()
    except ConfigError as err:
        fail(str(err))
    except BrokenPipeError:
        # The reader went away (`... | head -1`): stop quietly, as other command-line tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
