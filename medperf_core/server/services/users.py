"""Users: registered on their first authenticated request, listed by admins."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from medperf_core.domain import streams
from medperf_core.domain.callers import Caller
from medperf_core.domain.events import UserRegistered
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
        # email → Caller of users already registered. A user's row never changes once registered (no event updates
        # it) and the email is unique, so every process that remembers a user remembers the same row: nothing here
        # can be stale, nor needed by another worker (which reads the row from the database itself).
        self._known: dict[str, Caller] = {}

    def known(self, identity: Identity) -> Caller | None:
        """The caller if this process has seen the user before (no database access)."""
        return self._known.get(identity.email)

    def identify(self, identity: Identity) -> Caller:
        """The caller behind an identity, registering the user on first sight (UserRegistered, actor = them)."""
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
        caller = Caller(id=found["id"], email=found["email"], is_staff=bool(found["is_staff"]))
        if len(self._known) >= KNOWN_USERS:
            self._known.clear()
        self._known[identity.email] = caller
        return caller

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
