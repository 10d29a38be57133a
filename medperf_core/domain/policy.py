"""The site's policy: which containers may run next to this site's data (pure: parse, decide, describe).

A policy is a default (`allow` or `deny`) and two lists of rules. A rule names containers by their image digest
(the hash the runner verifies before it runs an image), by their UID on the server, by their owner (UID, or email
where the server tells it) or by the benchmark they run for. A `deny` rule that matches refuses the container,
whatever else matches; otherwise an `allow` rule that matches lets it run; otherwise the default decides. With no
file, the policy is `default: allow` and no rules: every container the benchmark's committee approved may run, as
before a policy existed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from medperf_core.errors import ConfigError

RULE_KINDS = ("digest", "container", "owner", "benchmark")
DEFAULTS = ("allow", "deny")


@attrs.frozen
class Rule:
    kind: str  # one of RULE_KINDS
    value: str

    def describe(self) -> str:
        return f"{self.kind} {self.value}"

    def as_dict(self) -> dict[str, str]:
        return {self.kind: self.value}


@attrs.frozen
class Subject:
    """A container about to run on this site's data, as far as the client knows it."""

    container: int
    name: str
    image_hash: str  # as registered (bare hex or sha256:...); "" when the server holds none
    owner: int | None = None
    owner_email: str | None = None
    benchmark: int | None = None

    def describe(self) -> str:
        return f"container {self.container} ({self.name})"


@attrs.frozen
class Decision:
    allowed: bool
    reason: str  # one line: the rule that decided, or the default
    rule: Rule | None = None


@attrs.frozen
class SitePolicy:
    default: str = "allow"
    allow: tuple[Rule, ...] = ()
    deny: tuple[Rule, ...] = ()

    def decide(self, subject: Subject) -> Decision:
        for rule in self.deny:
            if matches(rule, subject):
                return Decision(False, f"denied by the rule `deny {rule.describe()}`", rule)
        for rule in self.allow:
            if matches(rule, subject):
                return Decision(True, f"allowed by the rule `allow {rule.describe()}`", rule)
        if self.default == "allow":
            return Decision(True, "allowed by the default (allow)")
        return Decision(False, "no rule allows it and the default is deny")

    def with_rule(self, verdict: str, rule: Rule) -> SitePolicy:
        """The policy with `rule` in the `verdict` list (and out of the other one)."""
        allow = tuple(r for r in self.allow if r != rule)
        deny = tuple(r for r in self.deny if r != rule)
        if verdict == "allow":
            return attrs.evolve(self, allow=(*allow, rule), deny=deny)
        return attrs.evolve(self, allow=allow, deny=(*deny, rule))

    def as_dict(self) -> dict[str, Any]:
        return {"default": self.default, "allow": [r.as_dict() for r in self.allow],
                "deny": [r.as_dict() for r in self.deny]}


def matches(rule: Rule, subject: Subject) -> bool:
    if rule.kind == "digest":
        return bool(subject.image_hash) and bare_digest(rule.value) == bare_digest(subject.image_hash)
    if rule.kind == "container":
        return rule.value == str(subject.container)
    if rule.kind == "benchmark":
        return subject.benchmark is not None and rule.value == str(subject.benchmark)
    if "@" in rule.value:  # owner by email: only where the server told the owner's email
        return subject.owner_email is not None and rule.value.lower() == subject.owner_email.lower()
    return subject.owner is not None and rule.value == str(subject.owner)


def bare_digest(value: str) -> str:
    """`sha256:abc` and `abc` name the same image."""
    return value.strip().lower().removeprefix("sha256:")


def parse_rule(kind: str, value: Any, where: str) -> Rule:
    if kind not in RULE_KINDS:
        raise ConfigError(f"{where}: unknown rule {kind!r}", f"use one of {', '.join(RULE_KINDS)}")
    text = str(value).strip()
    if not text:
        raise ConfigError(f"{where}: the rule {kind!r} has no value", f"e.g. {kind}: {_EXAMPLES[kind]}")
    if kind in ("container", "benchmark") and not text.isdigit():
        raise ConfigError(f"{where}: {kind} must be a UID (a number), got {text!r}", f"e.g. {kind}: {_EXAMPLES[kind]}")
    if kind == "digest" and not all(c in "0123456789abcdef" for c in bare_digest(text)):
        raise ConfigError(f"{where}: {text!r} is not an image digest", f"e.g. digest: {_EXAMPLES['digest']}")
    return Rule(kind, bare_digest(text) if kind == "digest" else text)


_EXAMPLES = {"digest": "sha256:3f1c...", "container": "4", "owner": "modelowner@example.com", "benchmark": "1"}


def parse_policy(raw: Any, source: str) -> SitePolicy:
    """A policy from its YAML form; ConfigError naming the place and the fix."""
    if raw is None:
        return SitePolicy()
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{source}: a policy is a mapping with default, allow and deny",
                          "see `medperf policy show` for the form")
    unknown = sorted(set(raw) - {"default", "allow", "deny"})
    if unknown:
        raise ConfigError(f"{source}: unknown key {unknown[0]!r}", "a policy has only default, allow and deny")
    default = str(raw.get("default", "allow")).strip().lower()
    if default not in DEFAULTS:
        raise ConfigError(f"{source}: default must be allow or deny, got {default!r}", "e.g. default: deny")
    lists: dict[str, tuple[Rule, ...]] = {}
    for verdict in ("allow", "deny"):
        entries = raw.get(verdict) or []
        if not isinstance(entries, list):
            raise ConfigError(f"{source}: {verdict} must be a list of rules",
                              f"e.g. {verdict}:\n  - digest: {_EXAMPLES['digest']}")
        rules = []
        for n, entry in enumerate(entries, start=1):
            where = f"{source}: {verdict} rule {n}"
            if not isinstance(entry, Mapping) or len(entry) != 1:
                raise ConfigError(f"{where} must be one `kind: value` pair", f"e.g. - owner: {_EXAMPLES['owner']}")
            ((kind, value),) = entry.items()
            rules.append(parse_rule(str(kind), value, where))
        lists[verdict] = tuple(rules)
    return SitePolicy(default, lists["allow"], lists["deny"])
