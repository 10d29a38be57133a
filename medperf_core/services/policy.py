"""The site's policy on this machine: kept in MEDPERF_HOME/policy.yaml, changed through medperf as events, and
asked before any container runs on the site's data (see domain/policy.py for what a policy says)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from medperf_core.atomic import write_text_atomically
from medperf_core.config import medperf_home
from medperf_core.domain import streams
from medperf_core.domain.events import PolicyChanged, PolicyContainerRefused
from medperf_core.domain.policy import Decision, Rule, SitePolicy, Subject, parse_policy
from medperf_core.errors import ConfigError, PolicyRefusedError
from medperf_core.services.client import Client

FILE = "policy.yaml"
HEADER = """\
# The site's policy: which containers may run next to this site's data (medperf policy show|edit|check).
# A `deny` rule that matches refuses a container whatever else matches; else an `allow` rule lets it run; else the
# default decides. Rules: digest (the image digest the runner verifies), container (its UID on the server),
# owner (the owner's UID, or email where the server tells it), benchmark (the benchmark's UID).
"""


def policy_path() -> Path:
    return medperf_home() / FILE


def load(path: Path | None = None) -> SitePolicy:
    """The policy in force: the file's, or `default: allow` with no rules when there is no file."""
    path = path or policy_path()
    if not path.exists():
        return SitePolicy()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise ConfigError(f"{where}: not valid YAML", "fix it with: medperf policy edit") from None
    return parse_policy(raw, str(path))


def render(policy: SitePolicy) -> str:
    return HEADER + str(yaml.safe_dump(policy.as_dict(), sort_keys=False))


def save(client: Client, policy: SitePolicy, change: str) -> None:
    """Write the policy (a new file renamed over the old one: never half written) and record the change."""
    write_text_atomically(policy_path(), render(policy))
    _, version = client.store.load(streams.site_policy())
    client.record(streams.site_policy(), version, PolicyChanged(policy=policy.as_dict(), change=change))


def subject(container: dict[str, Any], benchmark: int | None) -> Subject:
    """The policy's view of a container as the server registered it."""
    owner = container.get("owner")
    email = container.get("owner_email")
    return Subject(
        container=int(container["id"]), name=str(container.get("name") or ""),
        image_hash=str(container.get("image_hash") or ""), owner=int(owner) if owner is not None else None,
        owner_email=str(email) if email else None, benchmark=benchmark,
    )


def decide(container: dict[str, Any], benchmark: int | None, policy: SitePolicy | None = None) -> Decision:
    return (policy or load()).decide(subject(container, benchmark))


def require_allowed(client: Client, container: dict[str, Any], benchmark: int | None,
                    dataset: int | None = None) -> None:
    """PolicyRefusedError (recorded as an event) when the site's policy does not let `container` run."""
    found = subject(container, benchmark)
    decision = load().decide(found)
    if decision.allowed:
        return
    _, version = client.store.load(streams.site_policy())
    client.record(streams.site_policy(), version, PolicyContainerRefused(
        container=found.container, benchmark=benchmark, dataset=dataset, image_hash=found.image_hash,
        reason=decision.reason,
    ))
    raise PolicyRefusedError(f"the site's policy refuses {found.describe()}: {decision.reason}", how_to_allow(found))


def how_to_allow(found: Subject) -> str:
    rule = Rule("digest", found.image_hash) if found.image_hash else Rule("container", str(found.container))
    return f"to allow it: medperf policy allow --{rule.kind} {rule.value} (or medperf policy edit)"
