"""The `local` backend: the server's services in-process on a local SQLite data dir, no HTTP; same dicts as rest."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from medperf_core.backends.base import Json
from medperf_core.backends.calls import EndpointMethods
from medperf_core.endpoints import Call, Endpoint
from medperf_core.errors import AuthenticationError, UserError
from medperf_core.profiles import Profile

if TYPE_CHECKING:
    from medperf_core.server.services import Caller, ServerServices

LOCAL_TOKEN = "local"  # the in-process backend trusts the profile's email; the token only marks "logged in"


def local_data_dir(profile: Profile) -> Path:
    """The profile's `local_db` (a directory holding events.db; a path to a .db file means its folder)."""
    if not profile.local_db:
        return profile.storage / "local-server"
    path = Path(profile.local_db).expanduser()
    return path.parent if path.suffix == ".db" else path


def _identity(email: str):  # type: ignore[no-untyped-def]
    from medperf_core.server.auth import DEMO_USERS, Identity

    return DEMO_USERS.get(email) or Identity(email=email, username=email.split("@")[0])


class LocalBackend(EndpointMethods):
    """Acts as the profile's email; opens the store lazily and keeps it for the backend's life. Every row's method
    makes the row's service call (backends/calls.py) as the HTTP route does, without a page limit."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.data_dir = local_data_dir(profile)
        self._services: ServerServices | None = None

    @property
    def services(self) -> ServerServices:
        if self._services is None:
            from medperf_core.server.services import ServerServices

            self._services = ServerServices.open(self.data_dir)
        return self._services

    def close(self) -> None:
        if self._services is not None:
            self._services.close()
            self._services = None

    def _caller(self) -> Caller:
        if not self.profile.email or not self.profile.token:
            raise AuthenticationError("not logged in", "log in with: medperf auth login -e EMAIL")
        return self.services.users.identify(_identity(self.profile.email))

    def call(self, row: Endpoint, call: Call) -> Any:
        if row.service is None:
            raise NotImplementedError(f"the local backend has no {row.name}")
        answer = row.service(self.services, self._caller(), call)
        return answer.results if row.paged else answer

    # --- the rows without a service call --------------------------------------------------------------------

    def login(self, email: str) -> str:
        self.services.users.identify(_identity(email))
        return LOCAL_TOKEN

    def upload_file(self, path: Path) -> Json:
        """Kept in the local server's file store; the URL is that stored file's `file://` URI."""
        from medperf_core.server.files import FILES_DIR, FileStore

        self._caller()
        try:
            stored = FileStore(self.data_dir / FILES_DIR).save_path(path)
        except OSError as e:
            raise UserError(f"cannot read {path}: {e.strerror}", "check the path") from e
        return stored.describe(stored.path.resolve().as_uri())
