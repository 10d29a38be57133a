"""`medperf policy`: the site's policy on which containers may run next to its data (show, edit, check, allow,
deny, default)."""

from __future__ import annotations

from pathlib import Path

import typer

from medperf_core.cli.ui import JSON_HELP, print_json, table

app = typer.Typer(no_args_is_help=True)

def _rule(digest: str | None, container: int | None, owner: str | None, benchmark: int | None) -> tuple[str, str]:
    from medperf_core.errors import UserError

    given = [(kind, str(value)) for kind, value in (("digest", digest), ("container", container), ("owner", owner),
                                                     ("benchmark", benchmark)) if value is not None]
    if len(given) != 1:
        raise UserError("give exactly one of --digest, --container, --owner, --benchmark",
                        "e.g. medperf policy allow --digest sha256:3f1c...")
    return given[0]


DIGEST = typer.Option(None, "--digest", help="An image digest (sha256:... or bare hex), as the container registers it.")
CONTAINER = typer.Option(None, "--container", help="A container's UID on the server.")
OWNER = typer.Option(None, "--owner", help="The owner's UID (or email, where the server tells it).")
BENCHMARK = typer.Option(None, "--benchmark", help="Every container run for this benchmark's UID.")


@app.command("show")
def show(as_json: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """The policy in force and where it lives."""
    from medperf_core.services import policy

    current = policy.load()
    if as_json:
        print_json({"path": str(policy.policy_path()), **current.as_dict()})
        return
    path = policy.policy_path()
    typer.echo(f"# {path}" + ("" if path.exists() else " (no file: the built-in default)"))
    typer.echo(policy.render(current), nl=False)


@app.command("edit")
def edit() -> None:
    """Open the policy in $EDITOR; it is checked before it replaces the old one, and the change is recorded."""
    import tempfile

    import yaml

    from medperf_core.domain.policy import parse_policy
    from medperf_core.errors import ConfigError
    from medperf_core.services import policy
    from medperf_core.services.client import Client

    before = policy.load()
    with tempfile.TemporaryDirectory(prefix="medperf-policy-") as tmp:
        draft = Path(tmp) / "policy.yaml"
        draft.write_text(policy.render(before), encoding="utf-8")
        _open_editor(draft)
        text = draft.read_text(encoding="utf-8")
    try:
        after = parse_policy(yaml.safe_load(text), "the edited policy")
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark is not None else ""
        raise ConfigError(f"the edited policy is not valid YAML{line}; nothing was changed",
                          "run medperf policy edit again") from None
    if after == before:
        typer.echo("No change.")
        return
    with Client() as client:
        policy.save(client, after, "edited")
    typer.echo(f"✅ Policy saved to {policy.policy_path()}")


def _open_editor(path: Path) -> None:
    """$VISUAL, else $EDITOR, else vi, on `path`; a UserError when it fails (nothing is changed then)."""
    import os
    import shlex
    import subprocess

    from medperf_core.errors import UserError

    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    try:
        done = subprocess.run([*shlex.split(editor), str(path)], check=False)
    except OSError as e:
        raise UserError(f"cannot start the editor {editor!r}: {e.strerror}", "set EDITOR to your editor") from None
    if done.returncode != 0:
        raise UserError(f"the editor {editor!r} exited with {done.returncode}; nothing was changed",
                        "run medperf policy edit again")


def _change(verdict: str, kind: str, value: str) -> None:
    from medperf_core.domain.policy import parse_rule
    from medperf_core.services import policy
    from medperf_core.services.client import Client

    rule = parse_rule(kind, value, f"--{kind}")
    before = policy.load()
    after = before.with_rule(verdict, rule)
    if after == before:
        typer.echo(f"Already: {verdict} {rule.describe()}")
        return
    with Client() as client:
        policy.save(client, after, f"{verdict} {rule.describe()}")
    typer.echo(f"✅ {verdict} {rule.describe()} ({policy.policy_path()})")


@app.command("allow")
def allow(digest: str = DIGEST, container: int = CONTAINER, owner: str = OWNER, benchmark: int = BENCHMARK) -> None:
    """Let these containers run (a deny rule that also matches still refuses them)."""
    _change("allow", *_rule(digest, container, owner, benchmark))


@app.command("deny")
def deny(digest: str = DIGEST, container: int = CONTAINER, owner: str = OWNER, benchmark: int = BENCHMARK) -> None:
    """Refuse these containers, whatever else allows them."""
    _change("deny", *_rule(digest, container, owner, benchmark))


@app.command("default")
def default(
    verdict: str = typer.Argument(..., help="allow or deny: what happens to a container no rule names."),
) -> None:
    """Set what happens to a container that no rule names."""
    import attrs

    from medperf_core.domain.policy import DEFAULTS
    from medperf_core.errors import UserError
    from medperf_core.services import policy
    from medperf_core.services.client import Client

    verdict = verdict.strip().lower()
    if verdict not in DEFAULTS:
        raise UserError(f"unknown default {verdict!r}", "use allow or deny")
    before = policy.load()
    if before.default == verdict:
        typer.echo(f"Already: default {verdict}")
        return
    with Client() as client:
        policy.save(client, attrs.evolve(before, default=verdict), f"default {verdict}")
    typer.echo(f"✅ default {verdict} ({policy.policy_path()})")


@app.command("check")
def check(
    benchmark: int = typer.Option(..., "--benchmark", "-b", help="The benchmark's UID."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Which of the benchmark's containers (preparation, metrics, models) the policy lets run here, and why."""
    from medperf_core.services.client import Client
    from medperf_core.services.execution import plan_run

    with Client() as client:
        planned = plan_run(client, benchmark, preparation=True)
    if as_json:
        print_json([{"role": p.role, "container": p.container, "name": p.name, "image_hash": p.image_hash,
                     "allowed": p.allowed, "why": p.why} for p in planned])
        return
    typer.echo(table([[p.role, p.container, p.name, "runs" if p.allowed else "REFUSED", p.why] for p in planned],
                     ["role", "container", "name", "policy", "why"]))
