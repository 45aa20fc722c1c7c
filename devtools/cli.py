"""The CLI run in this process, for tests: `python -m moe_core ARGS` as main() sees them."""

from __future__ import annotations

from moe_core.__main__ import main


def run_main(capsys, *args: str) -> tuple[int, str, str]:
    """main() in this process: (exit code, stdout, stderr), read through pytest's capsys."""
    try:
        main(list(args))
        code = 0
    except SystemExit as done:
        code = done.code
    out = capsys.readouterr()
    return code, out.out, out.err
