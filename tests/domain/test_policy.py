"""The site's policy decides from its rules alone: deny beats allow, allow beats the default."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medperf_core.domain.policy import Rule, SitePolicy, Subject, parse_policy
from medperf_core.errors import ConfigError

MODEL = Subject(container=4, name="model-cnn", image_hash="sha256:" + "ab" * 32, owner=3,
                owner_email="mo@example.com", benchmark=1)


def test_no_policy_lets_everything_run() -> None:
    assert SitePolicy().decide(MODEL).allowed


def test_a_deny_rule_beats_an_allow_rule_and_names_itself() -> None:
    policy = SitePolicy(allow=(Rule("benchmark", "1"),), deny=(Rule("digest", "ab" * 32),))
    decision = policy.decide(MODEL)
    assert not decision.allowed and decision.reason == f"denied by the rule `deny digest {'ab' * 32}`"


def test_a_default_deny_lets_only_what_a_rule_allows() -> None:
    policy = SitePolicy(default="deny", allow=(Rule("owner", "mo@example.com"),))
    assert policy.decide(MODEL).allowed
    other = Subject(container=5, name="other", image_hash="cd" * 32, owner=7, benchmark=1)
    assert policy.decide(other).reason == "no rule allows it and the default is deny"


@pytest.mark.parametrize("rule", [Rule("digest", "ab" * 32), Rule("container", "4"), Rule("owner", "3"),
                                  Rule("owner", "MO@example.com"), Rule("benchmark", "1")])
def test_each_kind_of_rule_names_the_container(rule: Rule) -> None:
    assert not SitePolicy(deny=(rule,)).decide(MODEL).allowed


def test_an_owner_email_never_matches_a_container_whose_owner_email_is_unknown() -> None:
    unknown = Subject(container=4, name="model-cnn", image_hash="", owner=3)
    assert SitePolicy(default="deny", allow=(Rule("owner", "mo@example.com"),)).decide(unknown).allowed is False


kinds = st.sampled_from([Rule("digest", "ab" * 32), Rule("container", "4"), Rule("owner", "3"),
                         Rule("benchmark", "1"), Rule("container", "9"), Rule("benchmark", "2")])


@given(allow=st.lists(kinds, max_size=4), deny=st.lists(kinds, max_size=4), default=st.sampled_from(["allow", "deny"]))
def test_a_matching_deny_always_refuses(allow: list[Rule], deny: list[Rule], default: str) -> None:
    policy = SitePolicy(default=default, allow=tuple(allow), deny=tuple(deny))
    decision = policy.decide(MODEL)
    matching_deny = [r for r in deny if r in (Rule("digest", "ab" * 32), Rule("container", "4"), Rule("owner", "3"),
                                              Rule("benchmark", "1"))]
    if matching_deny:
        assert not decision.allowed
    assert parse_policy(policy.as_dict(), "round trip") == policy


@pytest.mark.parametrize(("raw", "message"), [
    ({"default": "maybe"}, "default must be allow or deny"),
    ({"allow": [{"colour": "red"}]}, "allow rule 1: unknown rule 'colour'"),
    ({"deny": [{"container": "four"}]}, "container must be a UID"),
    ({"deny": [{"digest": "not-hex!"}]}, "is not an image digest"),
    ({"deny": {"digest": "ab"}}, "deny must be a list of rules"),
    ({"deny": [{"digest": "ab", "container": 1}]}, "must be one `kind: value` pair"),
    ({"rules": []}, "unknown key 'rules'"),
])
def test_a_malformed_policy_is_refused_with_the_place_and_the_fix(raw: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as refused:
        parse_policy(raw, "policy.yaml")
    assert refused.value.message.startswith("policy.yaml") and refused.value.hint
