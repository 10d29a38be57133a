"""What N workers of `medperf server start --workers N` share at start: settings by environment, one auth secret."""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from medperf_core.errors import ConfigError
from medperf_core.server.auth import SECRET_FILE, _load_secret
from medperf_core.server.settings import SETTINGS_ENV, FaultInjection, ServerSettings, decision_delay_seconds


def test_settings_travel_through_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = ServerSettings(
        data_dir=tmp_path,
        auth="jwt",
        jwt_public_key=tmp_path / "key.pem",
        jwt_audience="aud",
        jwt_issuer="iss",
        jwt_admin_emails=("a@example.com", "b@example.com"),
    )
    monkeypatch.setenv(SETTINGS_ENV, settings.to_json())
    assert ServerSettings.from_env() == settings
    monkeypatch.delenv(SETTINGS_ENV)
    with pytest.raises(ConfigError, match=SETTINGS_ENV):
        ServerSettings.from_env()


def test_workers_starting_at_once_share_one_secret(tmp_path: Path) -> None:
    with ProcessPoolExecutor(6, mp_context=multiprocessing.get_context("spawn")) as pool:
        secrets = list(pool.map(_load_secret, [tmp_path / "data"] * 24))
    assert len(set(secrets)) == 1 and len(secrets[0]) == 64
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == [SECRET_FILE]  # no temp file left
    assert (tmp_path / "data" / SECRET_FILE).stat().st_mode & 0o777 == 0o600


def test_fault_injection_is_read_once_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEDPERF_SERVER_DECISION_DELAY", raising=False)
    monkeypatch.delenv("MEDPERF_SERVER_COMMIT_DELAY", raising=False)
    assert FaultInjection.from_env() == FaultInjection(0.0, 0.0)
    monkeypatch.setenv("MEDPERF_SERVER_DECISION_DELAY", "0.01")
    monkeypatch.setenv("MEDPERF_SERVER_COMMIT_DELAY", "0.02")
    faults = FaultInjection.from_env()
    assert faults == FaultInjection(0.01, 0.02)
    monkeypatch.setenv("MEDPERF_SERVER_DECISION_DELAY", "5")  # read once: a later change does not reach it
    started = time.monotonic()
    faults.after_decision()
    assert time.monotonic() - started < 1
    monkeypatch.setenv("MEDPERF_SERVER_DECISION_DELAY", "soon")
    with pytest.raises(ConfigError, match="MEDPERF_SERVER_DECISION_DELAY"):
        decision_delay_seconds()
