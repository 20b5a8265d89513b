"""river and scikit-learn are only baselines: an extra (`hearth[evaluate]`), never needed by the gateway;
`hearth bench` / `hearth evaluate` say what to install instead of a ModuleNotFoundError."""

from __future__ import annotations

import subprocess
import sys

import pytest

HIDE = "import sys; sys.modules['river'] = None; from gateway.cli import main; sys.exit(main({argv!r}))"


@pytest.mark.parametrize("command", ["bench", "evaluate"])
def test_missing_baselines_are_named_with_how_to_install_them(command: str) -> None:
    done = subprocess.run([sys.executable, "-c", HIDE.format(argv=[command])], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1
    assert "the baselines the figures are compared with are not installed (river): " \
           "pip install 'hearth[evaluate]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_running_gateway_imports_no_baseline() -> None:
    code = ("import sys; import gateway.service, gateway.console, gateway.commands.replay, routines.engine; "
            "print(sorted(m for m in ('river', 'sklearn', 'scipy') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "[]"
