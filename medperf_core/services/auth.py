"""Logging a profile in and out: a token is stored only after the server accepted it."""

from __future__ import annotations

from typing import Any

import attrs

from medperf_core.errors import UserError
from medperf_core.profiles import Profile, ProfileStore


def login(store: ProfileStore, *, email: str | None, token: str | None) -> tuple[Profile, dict[str, Any]]:
    """Log the active profile in with a demo user's email (local auth) or a token (jwt); returns it and `me`."""
    from medperf_core.backends import get_backend

    profile = store.active()
    if token is None:
        if not email:
            raise UserError(
                "give --email (local auth) or --token (jwt)", "e.g. medperf auth login -e testdo@example.com"
            )
        token = get_backend(profile).login(email)
    trial = attrs.evolve(profile, token=token, email=email)
    me = get_backend(trial).me()  # a bad token fails here, before it is stored
    store.save(attrs.evolve(trial, email=me.get("email") or email))
    return profile, me


def logout(store: ProfileStore) -> Profile:
    profile = store.active()
    store.save(attrs.evolve(profile, token=None, email=None))
    return profile


def whoami(profile: Profile) -> dict[str, Any] | None:
    """The server's view of the profile's user, or None when it is not logged in."""
    from medperf_core.backends import get_backend

    if not profile.token:
        return None
    return get_backend(profile).me()
