"""The endpoint table: every operation of the API once (name, method, path, body, answer, service call, who may
call it), from which the server's routes (server/routes.py) and the client's `rest` and `local` backends
(backends/calls.py) are built.

Reading one request: find its row here by path; `service` is the call the HTTP route and the `local` backend both
make; the `rest` backend sends the row's method to the row's path. A row with a `handler` is answered by that
function instead (a file upload, a token): its route is still built from the row, and still checked against it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import attrs

from medperf_core.domain.resources import (
    ASSOCIATIONS,
    BENCHMARK,
    CONTAINER,
    DATASET,
    DECISION,
    POLICY,
    RESULT,
    Resource,
)

if TYPE_CHECKING:
    from medperf_core.domain.callers import Caller
    from medperf_core.server.services import ServerServices

Json = dict[str, Any]
Method = Literal["GET", "POST", "PUT"]
Answer = Literal["object", "list", "file", "html"]


@attrs.frozen
class Call:
    """One request's arguments as the route (or the `local` backend) read them: the path's ids in path order,
    the body, the Idempotency-Key and, for a list, the page asked for (`limit=None`: every row)."""

    ids: tuple[int, ...] = ()
    body: Json = attrs.field(factory=dict)
    key: str | None = None
    limit: int | None = None
    offset: int = 0

    @property
    def id(self) -> int:
        """The path's first id (`dataset_id` of `/datasets/{dataset_id}/`)."""
        return self.ids[0]


Service = Callable[["ServerServices", "Caller", Call], Any]


@attrs.frozen
class Body:
    """A request body: the resource whose writable fields it takes, under the name the OpenAPI document shows.
    A POST's body needs the resource's required fields; a PUT's fields are all optional."""

    model: str
    resource: Resource


@attrs.frozen
class Endpoint:
    """One operation. `name` is the backends' method; `service(svc, caller, call)` is what answers it; the
    `answer` is one JSON `object`, a `list` answered a page at a time as MedPerf's `{count, next, previous,
    results}` (the backends return every row), a `file`'s bytes or an `html` page;
    `idempotent` writes take an `Idempotency-Key`; `public` operations need no token (every other one needs a
    signed-in user; what each user may do is the service's rule). `handler` ("module:function") answers a row that
    does not fit the generic route; a row without a `service` is answered by its handler on the server and by a
    method of each backend's own (`login`, `upload_file`); `client=False` rows have no backend method;
    `local_auth` rows are served only when the server hands out its own tokens (`--auth local`)."""

    name: str
    method: Method
    path: str
    service: Service | None = None
    body: Body | None = None
    answer: Answer = "object"
    idempotent: bool = False
    public: bool = False
    handler: str | None = None
    client: bool = True
    local_auth: bool = False
    doc: str = ""

    @property
    def path_params(self) -> tuple[str, ...]:
        """`("dataset_id", "benchmark_id")` of `/datasets/{dataset_id}/benchmarks/{benchmark_id}/`."""
        return tuple(re.findall(r"\{(\w+)\}", self.path))

    def url(self, ids: tuple[Any, ...]) -> str:
        """The path with the ids in their places."""
        return self.path.format(**dict(zip(self.path_params, ids, strict=True)))

    def operation(self, *ids: Any) -> str:
        """`PUT /datasets/7/`: what an Idempotency-Key's claim names (services/idempotency.py)."""
        return f"{self.method} {self.url(ids)}"

    @property
    def paged(self) -> bool:
        return self.answer == "list"

    @property
    def status(self) -> int:
        """The success status: 201 for POST (MedPerf's clients check it exactly), else 200."""
        return 201 if self.method == "POST" else 200


def _leaderboard(svc: ServerServices, who: Caller, benchmark_id: int) -> Json:
    from medperf_core.server.services.leaderboard import LeaderboardService

    return LeaderboardService(svc).of(who, benchmark_id).to_json()


ENDPOINTS: tuple[Endpoint, ...] = (
    # --- the caller and the users ------------------------------------------------------------------------------
    Endpoint("me", "GET", "/me/", lambda svc, who, c: svc.users.me(who)),
    Endpoint("list_users", "GET", "/users/", lambda svc, who, c: svc.users.list(who, c.limit, c.offset),
             answer="list"),
    Endpoint("get_user", "GET", "/users/{user_id}/", lambda svc, who, c: svc.users.get(who, c.id)),
    Endpoint("login", "POST", "/auth/local/token/", public=True, local_auth=True,
             handler="medperf_core.server.routers.auth:login",
             doc="A token for a demo user; served only when the server runs with `--auth local`."),
    # --- benchmarks --------------------------------------------------------------------------------------------
    Endpoint("list_benchmarks", "GET", "/benchmarks/",
             lambda svc, who, c: svc.benchmarks.list(who, c.limit, c.offset), answer="list"),
    Endpoint("create_benchmark", "POST", "/benchmarks/",
             lambda svc, who, c: svc.benchmarks.create(who, c.body, c.key),
             body=Body("BenchmarkCreate", BENCHMARK), idempotent=True),
    Endpoint("get_benchmark", "GET", "/benchmarks/{benchmark_id}/",
             lambda svc, who, c: svc.benchmarks.get(who, c.id)),
    Endpoint("update_benchmark", "PUT", "/benchmarks/{benchmark_id}/",
             lambda svc, who, c: svc.benchmarks.update(who, c.id, c.body, c.key),
             body=Body("BenchmarkUpdate", BENCHMARK), idempotent=True),
    Endpoint("update_association_policy", "PUT", "/benchmarks/{benchmark_id}/association_policy/",
             lambda svc, who, c: svc.benchmarks.update_policy(who, c.id, c.body, c.key),
             body=Body("AssociationPolicyUpdate", POLICY), idempotent=True,
             doc="The owner's auto-approval policy for dataset and model association requests."),
    Endpoint("benchmark_models", "GET", "/benchmarks/{benchmark_id}/models/",
             lambda svc, who, c: svc.associations.of_benchmark(who, "model", c.id, c.limit, c.offset),
             answer="list"),
    Endpoint("list_benchmark_dataset_associations", "GET", "/benchmarks/{benchmark_id}/datasets/",
             lambda svc, who, c: svc.associations.of_benchmark(who, "dataset", c.id, c.limit, c.offset),
             answer="list"),
    Endpoint("list_benchmark_results", "GET", "/benchmarks/{benchmark_id}/results/",
             lambda svc, who, c: svc.results.of_benchmark(who, c.id, c.limit, c.offset), answer="list"),
    Endpoint("benchmark_leaderboard", "GET", "/benchmarks/{benchmark_id}/leaderboard/",
             lambda svc, who, c: _leaderboard(svc, who, c.id),
             doc="One row per model (ranked by the primary metric), each metric pooled across the sites the caller "
             "may see: weighted by `n_cases` when every result gives it, else the plain mean (`method` says "
             "which); the per-site figures; and where every dataset the caller may see stands."),
    Endpoint("list_my_benchmarks", "GET", "/me/benchmarks/",
             lambda svc, who, c: svc.benchmarks.list(who, c.limit, c.offset, mine=True), answer="list"),
    # --- containers (MedPerf's "mlcubes") ----------------------------------------------------------------------
    Endpoint("list_containers", "GET", "/mlcubes/",
             lambda svc, who, c: svc.containers.list(who, c.limit, c.offset), answer="list"),
    Endpoint("create_container", "POST", "/mlcubes/",
             lambda svc, who, c: svc.containers.create(who, c.body, c.key),
             body=Body("ContainerCreate", CONTAINER), idempotent=True,
             handler="medperf_core.server.routers.files:create_container",
             doc="Register a container. A config (or parameters) given only inline is also published as a file, so "
             "that MedPerf's client, which reads it from `git_mlcube_url`, can use the container too."),
    Endpoint("get_container", "GET", "/mlcubes/{container_id}/",
             lambda svc, who, c: svc.containers.get(who, c.id)),
    Endpoint("update_container", "PUT", "/mlcubes/{container_id}/",
             lambda svc, who, c: svc.containers.update(who, c.id, c.body),
             body=Body("ContainerUpdate", CONTAINER)),
    Endpoint("list_my_containers", "GET", "/me/mlcubes/",
             lambda svc, who, c: svc.containers.list(who, c.limit, c.offset, mine=True), answer="list"),
    # --- datasets ----------------------------------------------------------------------------------------------
    Endpoint("list_datasets", "GET", "/datasets/",
             lambda svc, who, c: svc.datasets.list(who, c.limit, c.offset), answer="list"),
    Endpoint("create_dataset", "POST", "/datasets/",
             lambda svc, who, c: svc.datasets.create(who, c.body, c.key),
             body=Body("DatasetCreate", DATASET), idempotent=True),
    Endpoint("get_dataset", "GET", "/datasets/{dataset_id}/",
             lambda svc, who, c: svc.datasets.get(who, c.id)),
    Endpoint("update_dataset", "PUT", "/datasets/{dataset_id}/",
             lambda svc, who, c: svc.datasets.update(who, c.id, c.body, c.key),
             body=Body("DatasetUpdate", DATASET), idempotent=True),
    Endpoint("list_my_datasets", "GET", "/me/datasets/",
             lambda svc, who, c: svc.datasets.list(who, c.limit, c.offset, mine=True), answer="list"),
    # --- associations of datasets and models with benchmarks ---------------------------------------------------
    Endpoint("request_dataset_association", "POST", "/datasets/benchmarks/",
             lambda svc, who, c: svc.associations.request(who, "dataset", c.body, c.key),
             body=Body("DatasetAssociationCreate", ASSOCIATIONS["dataset"]), idempotent=True),
    Endpoint("get_dataset_association", "GET", "/datasets/{dataset_id}/benchmarks/{benchmark_id}/",
             lambda svc, who, c: svc.associations.get(who, "dataset", *c.ids)),
    Endpoint("decide_dataset_association", "PUT", "/datasets/{dataset_id}/benchmarks/{benchmark_id}/",
             lambda svc, who, c: svc.associations.update(who, "dataset", c.ids[0], c.ids[1], c.body, c.key),
             body=Body("AssociationUpdate", DECISION), idempotent=True),
    Endpoint("request_model_association", "POST", "/mlcubes/benchmarks/",
             lambda svc, who, c: svc.associations.request(who, "model", c.body, c.key),
             body=Body("ModelAssociationCreate", ASSOCIATIONS["model"]), idempotent=True),
    Endpoint("get_model_association", "GET", "/mlcubes/{container_id}/benchmarks/{benchmark_id}/",
             lambda svc, who, c: svc.associations.get(who, "model", *c.ids)),
    Endpoint("decide_model_association", "PUT", "/mlcubes/{container_id}/benchmarks/{benchmark_id}/",
             lambda svc, who, c: svc.associations.update(who, "model", c.ids[0], c.ids[1], c.body, c.key),
             body=Body("AssociationUpdate", DECISION), idempotent=True),
    Endpoint("list_my_dataset_associations", "GET", "/me/datasets/associations/",
             lambda svc, who, c: svc.associations.mine(who, "dataset", c.limit, c.offset), answer="list"),
    Endpoint("list_my_model_associations", "GET", "/me/mlcubes/associations/",
             lambda svc, who, c: svc.associations.mine(who, "model", c.limit, c.offset), answer="list"),
    # --- results -----------------------------------------------------------------------------------------------
    Endpoint("list_results", "GET", "/results/",
             lambda svc, who, c: svc.results.list(who, c.limit, c.offset), answer="list"),
    Endpoint("submit_result", "POST", "/results/",
             lambda svc, who, c: svc.results.submit(who, c.body, c.key),
             body=Body("ResultCreate", RESULT), idempotent=True),
    Endpoint("get_result", "GET", "/results/{result_id}/", lambda svc, who, c: svc.results.get(who, c.id)),
    Endpoint("list_my_results", "GET", "/me/results/",
             lambda svc, who, c: svc.results.list(who, c.limit, c.offset, mine=True), answer="list"),
    # --- files -------------------------------------------------------------------------------------------------
    Endpoint("upload_file", "POST", "/files/", handler="medperf_core.server.routers.files:upload",
             doc="Store the multipart field `file`; answers 201 with its absolute `url`, `sha256` and `size`."),
    Endpoint("download_file", "GET", "/files/{sha256}/", answer="file", public=True, client=False,
             handler="medperf_core.server.routers.files:download",
             doc="The stored bytes (no token needed: the name is the content's hash; clients check it)."),
)

# The web pages (server/ui/pages.py): outside the API (absolute paths, no OpenAPI operation, no backend method);
# a session cookie, not a token, says who is looking, so the page itself decides what to show or where to send them.
_PAGE_ROWS: tuple[tuple[str, Method, str], ...] = (
    ("home", "GET", "/"),
    ("root", "GET", "/ui"),
    ("login_form", "GET", "/ui/login"),
    ("login", "POST", "/ui/login"),
    ("logout", "POST", "/ui/logout"),
    ("index", "GET", "/ui/"),
    ("benchmark_page", "GET", "/ui/benchmarks/{benchmark_id}/"),
)
PAGES: tuple[Endpoint, ...] = tuple(
    Endpoint(name, method, path, answer="html", public=True, client=False,
             handler=f"medperf_core.server.ui.pages:{name}")
    for name, method, path in _PAGE_ROWS
)

BY_NAME: dict[str, Endpoint] = {endpoint.name: endpoint for endpoint in ENDPOINTS}


def endpoint(name: str) -> Endpoint:
    """The row named `name` (a KeyError names a row that does not exist)."""
    return BY_NAME[name]
