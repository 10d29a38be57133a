"""`medperf --help` documents every exit code the error boundary can give."""

from __future__ import annotations

import re
import subprocess

from medperf_core import errors, failures
from medperf_core.testing.server import medperf_command


def error_classes() -> list[type[errors.MedperfError]]:
    found = []
    for module in (errors, failures):
        found += [c for c in vars(module).values() if isinstance(c, type) and issubclass(c, errors.MedperfError)]
    return found


def test_the_help_names_every_exit_code() -> None:
    shown = subprocess.run([*medperf_command(), "--help"], capture_output=True, text=True, timeout=60).stdout
    text = " ".join(shown.split())
    documented = {int(n) for n in re.findall(r"(\d+) [a-z]", text.split("Exit codes:", 1)[1])}
    assert {c.exit_code for c in error_classes()} | {0, 70} <= documented, text
