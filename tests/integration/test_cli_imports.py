"""The `mnft` entry point in a fresh interpreter: operator commands import no MindSpore."""

import subprocess
import sys


def test_operator_commands_do_not_import_mindspore():
    code = (
        "import sys; from mnft_operator import cli; cli.main(['--help']); print('mindspore' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "False"
