"""Users: registered on their first authenticated request, listed by admins."""

from __future__ import annotations

from typing import TYPE_CHECKING

from medperf_core.domain.events import UserRegistered
from medperf_core.errors import NotFoundError, PermissionDeniedError
from medperf_core.server.services.base import Caller, Json, Page, ServiceBase

if TYPE_CHECKING:
    from medperf_core.server.auth import Identity

USER_FIELDS = ("id", "username", "email", "first_name", "last_name", "is_staff")


def present_user(row: Json) -> Json:
    return {k: row[k] for k in USER_FIELDS}


class UserServices(ServiceBase):
    def identify(self, identity: Identity) -> Caller:
        """The caller behind an identity, registering the user on first sight (UserRegistered, actor = them)."""
        found = self.row("SELECT id, email, is_staff FROM users WHERE email = ?", [identity.email])
        if found is None:
            with self.store.lock:
                found = self.row("SELECT id, email, is_staff FROM users WHERE email = ?", [identity.email])
                if found is None:
                    self.create(
                        "users",
                        "user",
                        lambda uid: [
                            UserRegistered(
                                user_id=uid,
                                email=identity.email,
                                username=identity.username,
                                first_name=identity.first_name,
                                last_name=identity.last_name,
                                is_staff=identity.is_staff,
                            )
                        ],
                        identity.email,
                    )
                    found = self.row(
                        "SELECT id, email, is_staff FROM users WHERE email = ?", [identity.email]
                    )
        assert found is not None
        return Caller(id=found["id"], email=found["email"], is_staff=bool(found["is_staff"]))

    def me(self, caller: Caller) -> Json:
        return present_user(self.by_id("users", "user", caller.id))

    def list_users(self, caller: Caller, limit: int | None = None, offset: int = 0) -> Page:
        if not caller.is_staff:
            raise PermissionDeniedError("only admins can list users")
        found = self.page("users", "1", [], limit, offset)
        return Page(found.count, [present_user(r) for r in found.results])

    def get_user(self, caller: Caller, user_id: int) -> Json:
        if not caller.is_staff and caller.id != user_id:
            raise NotFoundError(f"user {user_id} not found")
        return present_user(self.by_id("users", "user", user_id))
