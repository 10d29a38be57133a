"""Users: registered on their first authenticated request, their admin rights kept in step with the server's
configuration, listed by admins."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from medperf_core.domain import streams
from medperf_core.domain.callers import Caller
from medperf_core.domain.events import DomainEvent, UserRegistered, UserRoleChanged
from medperf_core.domain.resources import USER
from medperf_core.errors import ConflictError, NotFoundError, PermissionDeniedError
from medperf_core.server.services.writer import Writer
from medperf_core.store.server_read_model import Json, Page, ServerReadModel
from medperf_core.store.store import Append

if TYPE_CHECKING:
    from medperf_core.server.auth import Identity


KNOWN_USERS = 10_000  # callers remembered per process (forgotten all at once past this)


class UserService:
    def __init__(self, reads: ServerReadModel, writer: Writer) -> None:
        self.reads = reads
        self.writer = writer
        # email → Caller of users already identified. Whether a user is an admin is decided by the server's
        # configuration at every request (the identity carries it); a remembered caller is used only while it agrees.
        self._known: dict[str, Caller] = {}

    def known(self, identity: Identity) -> Caller | None:
        """The caller if this process has seen the user before with the same rights (no database access)."""
        found = self._known.get(identity.email)
        return found if found is not None and found.is_staff == identity.is_staff else None

    def identify(self, identity: Identity) -> Caller:
        """The caller behind an identity, registering the user on first sight (UserRegistered, actor = them).

        The identity's admin rights (from the server's configuration) win over the user's row; when they differ,
        the change is recorded first (UserRoleChanged), so that the log says when and why rights changed."""
        found = self.reads.find(USER, email=identity.email)
        if found is None:
            with contextlib.suppress(ConflictError):  # another request registered the same user first
                self.writer.create(
                    USER,
                    lambda uid: [
                        Append(streams.user(uid), 0, [
                            UserRegistered(
                                user_id=uid,
                                email=identity.email,
                                username=identity.username,
                                first_name=identity.first_name,
                                last_name=identity.last_name,
                                is_staff=identity.is_staff,
                            )
                        ])
                    ],
                    identity.email,
                )
            found = self.reads.find(USER, email=identity.email)
        if found is None:  # registered above, unless the user table was reset meanwhile
            raise ConflictError(f"the user {identity.email} could not be registered", "sign in again")
        if bool(found["is_staff"]) != identity.is_staff:
            self._change_role(int(found["id"]), identity)
        caller = Caller(id=found["id"], email=found["email"], is_staff=identity.is_staff)
        if len(self._known) >= KNOWN_USERS:
            self._known.clear()
        self._known[identity.email] = caller
        return caller

    def _change_role(self, user_id: int, identity: Identity) -> None:
        """Record the user's new rights, unless another request (or worker) recorded them meanwhile."""

        def decide() -> list[DomainEvent]:
            row = self.reads.get(USER, user_id)
            if row is None or bool(row["is_staff"]) == identity.is_staff:
                return []
            return [UserRoleChanged(user_id=user_id, is_staff=identity.is_staff, reason=identity.admin_reason)]

        with contextlib.suppress(ConflictError):  # kept changing: others are recording it; this request still
            self.writer.decide_on_view(streams.user(user_id), decide, identity.email)  # acts with its rights

    def me(self, caller: Caller) -> Json:
        return self.get(caller, caller.id)

    def list(self, caller: Caller, limit: int | None = None, offset: int = 0) -> Page:
        if not caller.is_staff:
            raise PermissionDeniedError("only admins can list users")
        return self.reads.list(USER, limit, offset)

    def get(self, caller: Caller, user_id: int) -> Json:
        found = self.reads.get(USER, user_id) if caller.is_staff or caller.id == user_id else None
        if found is None:
            raise NotFoundError(f"user {user_id} not found")
        return found
