"""`medperf auth`: log in to the active profile's server (demo users or a token), log out, show who you are."""

from __future__ import annotations

import typer

from medperf_core.profiles import ProfileStore

app = typer.Typer(no_args_is_help=True)


@app.command("login")
def login(
    email: str = typer.Option(
        None, "--email", "-e", help="Your email (a demo user with a local-auth server)."
    ),
    token: str = typer.Option(
        None, "--token", envvar="MEDPERF_TOKEN", help="A token from your identity provider (jwt servers)."
    ),
) -> None:
    """Store a token for the active profile and check it with the server."""
    from medperf_core.services import auth

    profile, me = auth.login(ProfileStore(), email=email, token=token)
    typer.echo(f"✅ logged in to {profile.name!r} as {me.get('email')} (user {me.get('id')})")


@app.command("logout")
def logout() -> None:
    """Forget the active profile's token."""
    from medperf_core.services import auth

    profile = auth.logout(ProfileStore())
    typer.echo(f"✅ logged out of {profile.name!r}")


@app.command("status")
def status() -> None:
    """Who the active profile is logged in as, according to the server."""
    from medperf_core.services import auth

    profile = ProfileStore().active()
    me = auth.whoami(profile)
    if me is None:
        typer.echo(f"not logged in (profile {profile.name!r}); log in with: medperf auth login -e EMAIL")
        return
    typer.echo(
        f"logged in to {profile.name!r} ({profile.server if profile.backend == 'rest' else 'local'}) "
        f"as {me['email']} (user {me['id']})"
    )
