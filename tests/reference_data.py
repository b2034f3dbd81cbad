"""Paths of the reference checkpoint data kept in tests/data/reference (see its README)."""

from pathlib import Path

REFERENCE_DIR = Path(__file__).resolve().parent / "data" / "reference"
OFFICIAL_CHECKPOINT = REFERENCE_DIR / "mobilenetv2_official_layout.ckpt"
PARAM_LAYOUT = REFERENCE_DIR / "mobilenetv2_param_layout.json"
