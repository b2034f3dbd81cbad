"""The `mnft` command: one entry point that hands each subcommand to the module that owns it.

Modules are imported only when their subcommand runs, so the operator image never imports MindSpore
and `mnft --help` stays fast.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

from mnft_contract.exit_codes import OK, USAGE_ERROR

# subcommand -> (module, function, one-line help). Each function takes the argv after the subcommand
# and returns an exit code.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "train": ("mnft_trainer.cli", "train_main", "fine-tune MobileNetV2 (the r1.2 recipe's train.py)"),
    "eval": ("mnft_trainer.cli", "eval_main", "evaluate a checkpoint (the r1.2 recipe's eval.py)"),
    "export": ("mnft_trainer.cli", "export_main", "export a checkpoint as a MindIR or ONNX model"),
    "predict": ("mnft_trainer.cli", "predict_main", "classify images with an exported model (JSON lines)"),
    "launch": ("mnft_trainer.pod.launch", "main", "pod entrypoint: start one training process per device"),
    "demo-data": ("mnft_trainer.demo_data", "main", "write a small real ImageFolder dataset (no download)"),
    "fetch-checkpoint": (
        "mnft_trainer.pod.fetch",
        "main",
        "init container: download a checkpoint, check sha256",
    ),
    "render": ("mnft_operator.render_cli", "main", "print every object the operator would create"),
    "operator": ("mnft_operator.operator_cli", "main", "run the operator (kopf)"),
    "api": ("mnft_local.api_cli", "main", "serve the embedded Kubernetes API and a local kubelet"),
    "local": ("mnft_local.run_local", "main", "run a MobileNetFineTune locally, no cluster needed"),
}


# top-level package -> the extra that installs it (the operator image carries neither)
EXTRAS = {"mnft_local": "local", "mnft_trainer": "trainer"}


def usage() -> str:
    lines = ["usage: mnft <command> [options]", "", "commands:"]
    lines += [f"  {name:<10} {help_}" for name, (_, _, help_) in COMMANDS.items()]
    lines += ["", "Run `mnft <command> --help` for a command's options."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(usage())
        return OK if args else USAGE_ERROR
    command, rest = args[0], args[1:]
    if command not in COMMANDS:
        print(f"mnft: unknown command {command!r}\n\n{usage()}", file=sys.stderr)
        return USAGE_ERROR
    module_name, function_name, _ = COMMANDS[command]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is None or not module_name.startswith(exc.name.split(".")[0]):
            raise
        extra = EXTRAS.get(exc.name.split(".")[0], "")
        hint = f"; install mnft[{extra}]" if extra else ""
        print(
            f"mnft {command}: not installed in this environment ({exc.name} is missing){hint}",
            file=sys.stderr,
        )
        return USAGE_ERROR
    function = getattr(module, function_name)
    code = function(rest)
    return int(code or OK)


if __name__ == "__main__":
    sys.exit(main())
