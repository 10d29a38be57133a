"""MedPerf's report file: a preparation container may write a YAML report of its subjects while it runs (the
`report_file` output of its `prepare` task); the client reads it as it changes and says the progress.

The report is a table in pandas' `to_dict()` shape: one mapping per column, subject → value, e.g.
`{status: {case1: 1, case2: 3}, status_name: {...}, comment: {...}}` (a list of rows, each with a `status`, is
read too). MedPerf summarises it as the share of subjects at each `status` ("Stage 3": "60.0%"); so does this
module. Only the summary is shown; it stays on this machine (MedPerf sends it to the server only with the data
owner's approval, which this client does not ask for).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from medperf_core.containers.execution import live_output

REPORT_OUTPUT = "report_file"
# A `say` line starting with this updates the running step's detail (the live display keeps its step and clock)
DETAIL = "  ↳ "
POLL_S = 1.0


def _statuses(report: Any) -> list[Any] | None:
    if isinstance(report, dict) and isinstance(report.get("status"), dict):
        return list(report["status"].values())
    if isinstance(report, list) and report and all(isinstance(row, dict) and "status" in row for row in report):
        return [row["status"] for row in report]
    return None


def summary(report: Any) -> dict[str, str]:
    """MedPerf's progress summary: "Stage <status>" → share of subjects, in percent, by status; {} when the
    report has no `status` column."""
    statuses = _statuses(report)
    if not statuses:
        return {}
    counts = Counter(str(s) for s in statuses)
    return {f"Stage {status}": f"{round(100 * n / len(statuses), 1)}%" for status, n in sorted(counts.items())}


def describe(report: Any) -> str:
    """One line for the display: "3 subjects: Stage 1 33.3%, Stage 3 66.7%" ("" without a status column)."""
    statuses = _statuses(report)
    parts = summary(report)
    if not statuses or not parts:
        return ""
    noun = "subject" if len(statuses) == 1 else "subjects"
    return f"report: {len(statuses)} {noun}, " + ", ".join(f"{k} {v}" for k, v in parts.items())


def read(path: Path) -> Any:
    """The report's content, or None while it is missing or half written (not YAML yet)."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None


@contextmanager
def watch(final_path: Path, mount_path: str, say: Callable[[str], None], *,
          interval: float | None = None) -> Iterator[None]:
    """While inside, poll the report a running task writes (its staging copy, or `final_path` once moved) and
    say each new summary as a DETAIL line; once more at the end, so the last state is always said."""
    stop = threading.Event()
    last_stamp: tuple[str, int, int] | None = None
    last_line = ""

    def look() -> None:
        nonlocal last_stamp, last_line
        path = live_output(final_path, mount_path)
        if path is None:
            return
        try:
            info = path.stat()
        except OSError:
            return
        stamp = (str(path), info.st_mtime_ns, info.st_size)
        if stamp == last_stamp:
            return
        line = describe(read(path))
        if line:  # a half-written file is read again at its next change
            last_stamp = stamp
        if line and line != last_line:
            last_line = line
            say(DETAIL + line)

    def loop() -> None:
        while not stop.wait(interval or POLL_S):
            look()

    poller = threading.Thread(target=loop, name="medperf-report", daemon=True)
    poller.start()
    try:
        yield
    finally:
        stop.set()
        poller.join()
        look()
