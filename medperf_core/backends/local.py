"""The `local` backend: the server's services in-process on a local SQLite data dir, no HTTP; same dicts as rest."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from medperf_core.backends.base import Json
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


class LocalBackend:
    """Acts as the profile's email; opens the store lazily and keeps it for the backend's life."""

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

    # --- identity -------------------------------------------------------------------------------------------

    def me(self) -> Json:
        return self.services.users.me(self._caller())

    def login(self, email: str) -> str:
        self.services.users.identify(_identity(email))
        return LOCAL_TOKEN

    # --- benchmarks -----------------------------------------------------------------------------------------

    def list_benchmarks(self) -> list[Json]:
        return self.services.benchmarks.list(self._caller()).results

    def list_my_benchmarks(self) -> list[Json]:
        return self.services.benchmarks.list(self._caller(), mine=True).results

    def get_benchmark(self, benchmark_id: int) -> Json:
        return self.services.benchmarks.get(self._caller(), benchmark_id)

    def create_benchmark(self, body: Json, key: str | None = None) -> Json:
        return self.services.benchmarks.create(self._caller(), body, key)

    def update_benchmark(self, benchmark_id: int, body: Json, key: str | None = None) -> Json:
        return self.services.benchmarks.update(self._caller(), benchmark_id, body, key)

    def update_association_policy(self, benchmark_id: int, body: Json, key: str | None = None) -> Json:
        return self.services.benchmarks.update_policy(self._caller(), benchmark_id, body, key)

    def benchmark_models(self, benchmark_id: int) -> list[Json]:
        return self.services.associations.of_benchmark(self._caller(), "model", benchmark_id).results

    # --- containers -----------------------------------------------------------------------------------------

    def list_containers(self) -> list[Json]:
        return self.services.containers.list(self._caller()).results

    def list_my_containers(self) -> list[Json]:
        return self.services.containers.list(self._caller(), mine=True).results

    def get_container(self, container_id: int) -> Json:
        return self.services.containers.get(self._caller(), container_id)

    def create_container(self, body: Json, key: str | None = None) -> Json:
        return self.services.containers.create(self._caller(), body, key)

    def update_container(self, container_id: int, body: Json) -> Json:
        return self.services.containers.update(self._caller(), container_id, body)

    # --- datasets -------------------------------------------------------------------------------------------

    def list_datasets(self) -> list[Json]:
        return self.services.datasets.list(self._caller()).results

    def list_my_datasets(self) -> list[Json]:
        return self.services.datasets.list(self._caller(), mine=True).results

    def get_dataset(self, dataset_id: int) -> Json:
        return self.services.datasets.get(self._caller(), dataset_id)

    def create_dataset(self, body: Json, key: str | None = None) -> Json:
        return self.services.datasets.create(self._caller(), body, key)

    def update_dataset(self, dataset_id: int, body: Json, key: str | None = None) -> Json:
        return self.services.datasets.update(self._caller(), dataset_id, body, key)

    # --- associations ---------------------------------------------------------------------------------------

    def request_dataset_association(
        self, dataset_id: int, benchmark_id: int, metadata: Json, key: str | None = None
    ) -> Json:
        body = {"dataset": dataset_id, "benchmark": benchmark_id, "metadata": metadata, "approval_status": "PENDING"}
        return self.services.associations.request(self._caller(), "dataset", body, key)

    def set_dataset_association(
        self, dataset_id: int, benchmark_id: int, approval_status: str, key: str | None = None
    ) -> Json:
        return self.services.associations.update(
            self._caller(), "dataset", dataset_id, benchmark_id, {"approval_status": approval_status}, key
        )

    def get_dataset_association(self, dataset_id: int, benchmark_id: int) -> Json:
        return self.services.associations.get(self._caller(), "dataset", dataset_id, benchmark_id)

    def request_model_association(
        self, model_id: int, benchmark_id: int, metadata: Json, key: str | None = None
    ) -> Json:
        body = {"model_mlcube": model_id, "benchmark": benchmark_id, "metadata": metadata}
        return self.services.associations.request(self._caller(), "model", body, key)

    def set_model_association(
        self, model_id: int, benchmark_id: int, approval_status: str, key: str | None = None
    ) -> Json:
        return self.services.associations.update(
            self._caller(), "model", model_id, benchmark_id, {"approval_status": approval_status}, key
        )

    def get_model_association(self, model_id: int, benchmark_id: int) -> Json:
        return self.services.associations.get(self._caller(), "model", model_id, benchmark_id)

    def set_model_priority(self, model_id: int, benchmark_id: int, priority: int, key: str | None = None) -> Json:
        return self.services.associations.update(
            self._caller(), "model", model_id, benchmark_id, {"priority": priority}, key
        )

    def list_my_dataset_associations(self) -> list[Json]:
        return self.services.associations.mine(self._caller(), "dataset").results

    def list_my_model_associations(self) -> list[Json]:
        return self.services.associations.mine(self._caller(), "model").results

    def list_benchmark_dataset_associations(self, benchmark_id: int) -> list[Json]:
        return self.services.associations.of_benchmark(self._caller(), "dataset", benchmark_id).results

    # --- files ----------------------------------------------------------------------------------------------

    def upload_file(self, path: Path) -> Json:
        """Kept in the local server's file store; the URL is that stored file's `file://` URI."""
        from medperf_core.server.files import FILES_DIR, FileStore

        self._caller()
        try:
            stored = FileStore(self.data_dir / FILES_DIR).save_path(path)
        except OSError as e:
            raise UserError(f"cannot read {path}: {e.strerror}", "check the path") from e
        return stored.describe(stored.path.resolve().as_uri())

    # --- results --------------------------------------------------------------------------------------------

    def submit_result(self, body: Json, key: str | None = None) -> Json:
        return self.services.results.submit(self._caller(), body, key)

    def get_result(self, result_id: int) -> Json:
        return self.services.results.get(self._caller(), result_id)

    def list_results(self) -> list[Json]:
        return self.services.results.list(self._caller()).results

    def list_my_results(self) -> list[Json]:
        return self.services.results.list(self._caller(), mine=True).results

    def list_benchmark_results(self, benchmark_id: int) -> list[Json]:
        return self.services.results.of_benchmark(self._caller(), benchmark_id).results
