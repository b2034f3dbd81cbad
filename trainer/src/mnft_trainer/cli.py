"""`mnft train` and `mnft eval` (the r1.2 recipe's train.py/eval.py command lines), `mnft export` and
`mnft predict`.

Exit codes: 0 success, 1 a user/data/checkpoint error (one `error: ...` line on stderr and in the
termination message), 2 a usage error (argparse), 75 a transient distributed failure (same line).
Nothing in the output directory is deleted on error.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any

from mnft_contract.env import MNFT_PLATFORM, GLOG_v
from mnft_contract.exit_codes import ERROR, OK, killed_by
from mnft_contract.termination import error_line, write_termination_message
from mnft_trainer.config import (
    PLATFORMS,
    RECIPE_KEYS,
    convert_value,
    load_config_file,
    parse_bool,
    resolve_config,
)
from mnft_trainer.errors import TrainerError
from mnft_trainer.outputs import termination_summary


def _common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--platform",
        choices=PLATFORMS,
        default=os.environ.get(MNFT_PLATFORM) or None,
        required=not os.environ.get(MNFT_PLATFORM),
        help="device target (default: $MNFT_PLATFORM)",
    )
    parser.add_argument(
        "--dataset_path", required=True, help="ImageFolder root (train/ and eval/ class folders)"
    )
    parser.add_argument("--config", help="YAML file of recipe keys (the command line wins over it)")
    parser.add_argument("--run_distribute", help="accepted for recipe compatibility; ranks come from the env")
    for key, kind in RECIPE_KEYS.items():
        parser.add_argument(f"--{key}", metavar=kind.__name__.upper(), help=argparse.SUPPRESS)


def train_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mnft train",
        description="Fine-tune MobileNetV2 (MindSpore r1.2 recipe). Every recipe key is also an option: "
        + ", ".join(f"--{k}" for k in RECIPE_KEYS),
    )
    _common_arguments(parser)
    parser.add_argument("--pretrain_ckpt", default="", help="pretrained checkpoint (official layout)")
    parser.add_argument("--freeze_layer", choices=("none", "backbone"), default="none")
    parser.add_argument("--filter_head", default="false", help="true: never load the checkpoint's head")
    parser.add_argument("--run_eval", help="true|false: evaluate on the eval split after training")
    parser.add_argument("--feature_cache_dir", help="where frozen-backbone features are cached")
    parser.add_argument(
        "--eval_every_epochs",
        type=_non_negative,
        default=0,
        metavar="N",
        help="also evaluate after every N-th epoch (summary.json history); 0: only at the end",
    )
    parser.add_argument(
        "--export_formats",
        default="",
        metavar="MINDIR,ONNX",
        help="export the final model in these formats (plus labels.json) to save_checkpoint_path",
    )
    return parser


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def _positive(text: str) -> int:
    value = _non_negative(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def export_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mnft export",
        description="Export a checkpoint as an inference model (MindIR or ONNX); with --dataset_path also "
        "write labels.json (the class folder names in label order) beside the model.",
    )
    parser.add_argument(
        "--checkpoint", required=True, help="a checkpoint of mnft train (or the official layout)"
    )
    parser.add_argument(
        "--num_classes", type=_positive, help="classes of the head (default: from --dataset_path)"
    )
    parser.add_argument("--format", type=str.upper, choices=("MINDIR", "ONNX"), default="MINDIR")
    parser.add_argument("--output", required=True, help="model file to write, e.g. model.mindir")
    parser.add_argument("--image_height", type=_positive, default=224)
    parser.add_argument("--image_width", type=_positive, default=224)
    parser.add_argument("--dataset_path", help="the training data, for labels.json (train/ or class folders)")
    parser.add_argument("--platform", choices=PLATFORMS, default=os.environ.get(MNFT_PLATFORM) or "CPU")
    return parser


def predict_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mnft predict",
        description='Classify images with an exported model; one JSON line per image: {"image": ..., '
        '"label": ..., "score": ...} (score: the softmax probability of the label).',
    )
    parser.add_argument("--model", required=True, help="a .mindir (MindSpore) or .onnx (onnxruntime) file")
    parser.add_argument("--labels", help="labels.json (default: labels.json beside the model, if any)")
    parser.add_argument(
        "--platform",
        choices=PLATFORMS,
        default=os.environ.get("MNFT_PLATFORM") or "CPU",
        help="device for a .mindir model (.onnx runs on ONNX Runtime's CPU provider)",
    )
    parser.add_argument("images", nargs="+", metavar="IMAGE_OR_DIR", help="image files or directories")
    return parser


def eval_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mnft eval", description="Evaluate a MobileNetV2 checkpoint, or an exported model (--model)."
    )
    _common_arguments(parser)
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--pretrain_ckpt", help="checkpoint to evaluate")
    what.add_argument(
        "--model", help="an exported .mindir or .onnx model to evaluate (as mnft predict runs it)"
    )
    return parser


def config_from_args(args: argparse.Namespace) -> Any:
    file_values = load_config_file(args.config) if args.config else {}
    cli_values = {
        key: convert_value(key, getattr(args, key), "--")
        for key in RECIPE_KEYS
        if getattr(args, key) is not None
    }
    return resolve_config(args.platform, file_values, cli_values)


def _run(
    argv: Sequence[str], parser: argparse.ArgumentParser, body: Callable[[argparse.Namespace], int]
) -> int:
    try:
        args = parser.parse_args(list(argv))
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code or 0)
    try:
        return body(args)
    except TrainerError as exc:  # DistributedError carries exit_code 75 (restart the job)
        return _fail(str(exc), getattr(exc, "exit_code", ERROR))
    except KeyboardInterrupt:
        return killed_by(signal.SIGINT)
    except Exception as exc:  # a bug or a MindSpore runtime failure: keep the trace, end with one line
        traceback.print_exc()
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return _fail(f"internal error: {type(exc).__name__}: {first}")


def _fail(message: str, code: int = ERROR) -> int:
    line = error_line(message)
    sys.stdout.flush()
    print(line, file=sys.stderr, flush=True)
    write_termination_message(line)
    return code


def train_main(argv: Sequence[str]) -> int:
    return _run(argv, train_parser(), _train)


def eval_main(argv: Sequence[str]) -> int:
    return _run(argv, eval_parser(), _eval)


def export_main(argv: Sequence[str]) -> int:
    return _run(argv, export_parser(), _export)


def predict_main(argv: Sequence[str]) -> int:
    return _run(argv, predict_parser(), _predict)


def _train(args: argparse.Namespace) -> int:
    from mnft_trainer.export import parse_formats
    from mnft_trainer.run import TrainRequest, run_training

    cfg = config_from_args(args)
    request = TrainRequest(
        config=cfg,
        dataset_path=args.dataset_path,
        pretrain_ckpt=args.pretrain_ckpt or None,
        freeze_backbone=args.freeze_layer == "backbone",
        filter_head=parse_bool(args.filter_head, "--filter_head"),
        run_eval=None if args.run_eval is None else parse_bool(args.run_eval, "--run_eval"),
        feature_cache_dir=args.feature_cache_dir,
        eval_every_epochs=args.eval_every_epochs,
        export_formats=parse_formats(args.export_formats),
    )
    write_termination_message(json.dumps(termination_summary(run_training(request))))
    return OK


def _eval(args: argparse.Namespace) -> int:
    from mnft_trainer.run import run_eval

    cfg = config_from_args(args)
    if args.model is not None:
        from mnft_trainer.evaluate import run_model_eval

        accuracy = run_model_eval(cfg, args.dataset_path, args.model)
        write_termination_message(json.dumps({"accuracy": accuracy, "model": args.model}))
        return 0
    accuracy = run_eval(cfg, args.dataset_path, args.pretrain_ckpt)
    write_termination_message(json.dumps({"accuracy": accuracy, "checkpoint": args.pretrain_ckpt}))
    return OK


def _export(args: argparse.Namespace) -> int:
    from mnft_trainer.export import run_export

    written = run_export(
        checkpoint=args.checkpoint,
        num_classes=args.num_classes,
        fmt=args.format,
        output=args.output,
        height=args.image_height,
        width=args.image_width,
        dataset_path=args.dataset_path,
        platform=args.platform,
    )
    print(json.dumps(written), flush=True)
    return OK


def _predict(args: argparse.Namespace) -> int:
    os.environ.setdefault(GLOG_v, "3")  # MindSpore's C++ log: errors only, before it is imported
    from mnft_trainer.predict import image_paths, load_labels, load_model, predictions

    paths = image_paths(args.images)
    labels = load_labels(args.labels, args.model)
    model = load_model(args.model, args.platform)
    for line in predictions(model, paths, labels, lambda text: print(text, file=sys.stderr, flush=True)):
        print(json.dumps(line), flush=True)
    return OK
