"""Progress of long work: a live rich display on a terminal, plain lines (one per step) otherwise.

The services only call `say(line)` and a hashing `progress(done, total)`; this module decides how they look.
A line ending in "…" starts a step: on a terminal it stays on a live line with a spinner and the elapsed time
until the next line arrives; a line starting with `report_progress.DETAIL` (what a container's report file says)
is shown after the running step on that live line, without restarting its clock, and the last one stays under
the step's next line. Elsewhere (a pipe, a CI log)
every line is printed as it comes.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import typer

from medperf_core.services.hashing import Progress
from medperf_core.services.report_progress import DETAIL

Say = Callable[[str], None]
PLAIN_ENV = "MEDPERF_PLAIN_PROGRESS"  # set to force plain lines even on a terminal


def live_terminal() -> bool:
    import os

    return sys.stderr.isatty() and sys.stdout.isatty() and not os.environ.get(PLAIN_ENV)


@contextmanager
def steps(title: str = "") -> Iterator[Say]:
    """A `say` for a long command: a spinner with the running step and its elapsed time on a terminal."""
    if not live_terminal():
        yield typer.echo
        return
    from rich.console import Console
    from rich.live import Live
    from rich.spinner import Spinner
    from rich.text import Text

    console = Console(stderr=False, highlight=False)
    state: dict[str, Any] = {"step": title, "since": time.monotonic(), "detail": ""}

    class _Status:
        def __rich__(self) -> Spinner:
            elapsed = time.monotonic() - state["since"]
            text = Text(f"{state['step']}  {_clock(elapsed)}", style="bold")
            if state["detail"]:
                text.append(f"  {state['detail']}", style="cyan")
            return Spinner("dots", text)

    with Live(_Status(), console=console, refresh_per_second=4, transient=True) as live:
        def say(line: str) -> None:
            if line.startswith(DETAIL):
                state["detail"] = line[len(DETAIL):].strip()
            elif line.rstrip().endswith("…"):
                state["step"], state["since"], state["detail"] = line.rstrip(" …"), time.monotonic(), ""
            elif state["detail"]:  # the step ended: its last report stays on screen under it
                live.console.print(line, markup=False)
                live.console.print(DETAIL + state["detail"], markup=False)
                state["detail"] = ""
            else:
                live.console.print(line, markup=False)
        yield say


@contextmanager
def hashing_progress(label: str = "hashing") -> Iterator[Progress | None]:
    """A bar of bytes hashed with the rate and elapsed time on a terminal; nothing elsewhere (the result line
    says it)."""
    if not live_terminal():
        yield None
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        TextColumn,
        TimeElapsedColumn,
        TransferSpeedColumn,
    )
    from rich.progress import Progress as Bar

    with Bar(TextColumn(label), BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeElapsedColumn(),
             transient=True) as bar:
        task = bar.add_task(label, total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield progress


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"
