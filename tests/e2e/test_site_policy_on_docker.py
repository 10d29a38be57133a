"""The site's policy on real containers (Docker): a model whose image digest the policy refuses is not run, the
others are, the refusal is in the log and in the run's summary; `--dry-run` runs nothing."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from _e2e import Tutorial

pytestmark = [pytest.mark.docker, pytest.mark.e2e]


def test_a_run_where_the_policy_refuses_one_model_runs_the_others(tutorial_factory: Any) -> None:
    t: Tutorial = tutorial_factory(platform="docker")
    t.until("approve")
    model = json.loads(t.medperf("container", "view", "4", "--format", "json").stdout)
    digest = str(model["image_hash"])
    assert digest, model

    t.medperf("policy", "deny", "--digest", digest)
    shown = t.medperf("policy", "show").stdout
    assert re.search(r"^deny:\n- digest: " + re.escape(digest.removeprefix("sha256:")), shown, re.M), shown
    checked = t.medperf("policy", "check", "-b", "1").stdout
    assert re.search(r"^model\s+4\s+\S+\s+REFUSED\s+denied by the rule", checked, re.M), checked

    dry = t.medperf("benchmark", "run", "-b", "1", "-d", "1", "--dry-run").stdout
    assert "1 the site's policy would refuse (nothing was run)" in dry, dry
    assert not [e for e in t.events() if e["type"] == "execution.started" and e["payload"]["model"] == 4]

    ran = t.medperf("benchmark", "run", "-b", "1", "-d", "1", "--no-cache").stdout
    assert "1 refused by the site's policy: models 4" in ran, ran
    assert "1 ran successfully" in ran, ran  # the reference model, for real
    events = t.events()
    refused = [e["payload"] for e in events if e["type"] == "policy.container_refused"]
    assert [(r["container"], r["dataset"]) for r in refused] == [(4, 1)]
    started = [e["payload"]["model"] for e in events if e["type"] == "execution.started"]
    assert 4 not in started and started.count(2) == 2  # the compatibility test, then this run
    assert "intact" in t.medperf("events", "verify").stdout
