"""`medperf policy`: rules added and shown, the editor's result checked before it replaces the file, changes
recorded in the log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from medperf_core.testing.server import medperf_command


def medperf(home: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*medperf_command(), *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "MEDPERF_HOME": str(home), **(env or {})}, stdin=subprocess.DEVNULL)


def editor(tmp_path: Path, text: str) -> dict[str, str]:
    """An EDITOR that writes `text` into the file it is given."""
    script = tmp_path / "editor.py"
    script.write_text(f"import sys, pathlib\npathlib.Path(sys.argv[1]).write_text({text!r})\n", encoding="utf-8")
    return {"EDITOR": f"{sys.executable} {script}", "VISUAL": ""}


def policy_events(home: Path) -> list[str]:
    listed = medperf(home, "events", "ls", "--json")
    assert listed.returncode == 0, listed.stderr
    return [e["payload"]["change"] for e in json.loads(listed.stdout or "[]") if e["type"] == "policy.changed"]


def test_rules_are_added_shown_and_recorded(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert medperf(home, "policy", "default", "deny").returncode == 0
    assert medperf(home, "policy", "allow", "--benchmark", "1").returncode == 0
    assert medperf(home, "policy", "deny", "--digest", "sha256:" + "ab" * 32).returncode == 0
    shown = json.loads(medperf(home, "policy", "show", "--json").stdout)
    assert shown["default"] == "deny" and shown["allow"] == [{"benchmark": "1"}]
    assert shown["deny"] == [{"digest": "ab" * 32}]
    assert policy_events(home) == ["default deny", "allow benchmark 1", f"deny digest {'ab' * 32}"]


def test_a_rule_needs_exactly_one_kind(tmp_path: Path) -> None:
    done = medperf(tmp_path / "home", "policy", "allow", "--benchmark", "1", "--container", "2")
    assert done.returncode == 2 and "give exactly one of --digest, --container, --owner, --benchmark" in done.stderr
    assert not (tmp_path / "home" / "policy.yaml").exists()


def test_an_edit_replaces_the_policy_once_it_is_valid(tmp_path: Path) -> None:
    home = tmp_path / "home"
    done = medperf(home, "policy", "edit", env=editor(tmp_path, "default: deny\nallow:\n  - owner: 3\n"))
    assert done.returncode == 0, done.stderr
    assert json.loads(medperf(home, "policy", "show", "--json").stdout)["allow"] == [{"owner": "3"}]
    assert policy_events(home) == ["edited"]


def test_a_broken_edit_changes_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert medperf(home, "policy", "deny", "--container", "7").returncode == 0
    before = (home / "policy.yaml").read_text(encoding="utf-8")
    for text, message in (("deny: [\n", "not valid YAML (line"), ("deny:\n  - colour: red\n", "unknown rule 'colour'")):
        done = medperf(home, "policy", "edit", env=editor(tmp_path, text))
        assert done.returncode == 2 and message in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert (home / "policy.yaml").read_text(encoding="utf-8") == before
    assert policy_events(home) == ["deny container 7"]
