"""`python -m mnft_trainer train|eval ARGS`: how `mnft launch` starts each training process."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from mnft_contract.exit_codes import USAGE_ERROR


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    from mnft_trainer.cli import eval_main, train_main

    commands = {"train": train_main, "eval": eval_main}
    if not args or args[0] not in commands:
        print("usage: python -m mnft_trainer train|eval [options]", file=sys.stderr)
        return USAGE_ERROR
    return commands[args[0]](args[1:])


if __name__ == "__main__":
    sys.exit(main())
