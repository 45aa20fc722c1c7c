"""`python -m moe_core`: the command line (`moe_core.cli`)."""

from moe_core.cli import main

if __name__ == "__main__":
    main()
