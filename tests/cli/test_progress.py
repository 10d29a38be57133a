"""Long work: plain lines when not on a terminal; a live spinner line that leaves only the finished steps on one."""

from __future__ import annotations

import pytest

from medperf_core.cli import progress
from medperf_core.services.report_progress import DETAIL


def test_plain_lines_when_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    with progress.steps("preparing") as say:
        say("[1/3] prepare: running …")
        say("[1/3] prepare: done in 1.0 s")
    assert capsys.readouterr().out == "[1/3] prepare: running …\n[1/3] prepare: done in 1.0 s\n"
    with progress.hashing_progress() as hashing:
        assert hashing is None


def test_live_display_keeps_finished_steps(capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "live_terminal", lambda: True)
    with progress.steps("preparing") as say:
        say("[1/3] prepare: running …")
        say("[1/3] prepare: done in 1.0 s")
    out = capsys.readouterr().out
    assert "[1/3] prepare: done in 1.0 s" in out
    with progress.hashing_progress() as hashing:
        assert hashing is not None
        hashing(50, 100)
        hashing(100, 100)


def test_a_reports_progress_stays_on_the_live_line_and_its_last_state_under_the_step(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "live_terminal", lambda: True)
    with progress.steps("preparing") as say:
        say("[1/3] prepare: running …")
        say(DETAIL + "report: 3 subjects, Stage 1 100.0%")
        say(DETAIL + "report: 3 subjects, Stage 3 100.0%")
        say("[1/3] prepare: done in 4.0 s")
        say("[2/3] sanity_check: running …")
        say("[2/3] sanity_check: done in 1.0 s")
    out = capsys.readouterr().out
    kept = [line.strip() for line in out.splitlines() if line.strip() and "running" not in line]
    assert kept == ["[1/3] prepare: done in 4.0 s", DETAIL.strip() + " report: 3 subjects, Stage 3 100.0%",
                    "[2/3] sanity_check: done in 1.0 s"], out


def test_plain_env_forces_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(progress.PLAIN_ENV, "1")
    assert progress.live_terminal() is False


def test_clock() -> None:
    assert progress._clock(65) == "01:05"
    assert progress._clock(3725) == "1:02:05"
