"""Crash trials in the suite: each data-owner command killed at random moments and at the server's commit, then
re-run and synced; client and server must agree and both logs verify and replay (see
medperf_core/testing/crash_trials.py; `benchmarks/crash_trials.py` runs hundreds)."""

from __future__ import annotations

import os
from pathlib import Path

from _e2e import require_platform

from medperf_core.testing.crash_trials import Template, run_trials, summary

TRIALS = int(os.environ.get("MEDPERF_CRASH_TRIALS", "18"))


def test_crash_trials_end_in_agreement(tmp_path: Path) -> None:
    require_platform("docker")
    template = Template(tmp_path)
    trials = run_trials(template, TRIALS, seed=13)
    report = summary(trials)
    assert report["diverged"] == 0, report["problems"]
    assert report["killed"] >= TRIALS // 2, report  # most trials did kill the command mid-way
    if TRIALS >= 11:  # one round of every (command, mode)
        assert {t.command for t in trials if t.killed} >= {"submit", "operational", "associate", "result"}
