"""The backends' methods, one per client row of the endpoint table (medperf_core/endpoints.py), each sending its
row through the backend's `call`: `backend.update_dataset(7, body, key)` is `backend.call(endpoint("update_dataset"),
Call((7,), body, key))`. A backend defines a method itself only for a row its transport answers differently (a file
upload, a token)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from medperf_core.endpoints import ENDPOINTS, Call, Endpoint, Json


def arguments(row: Endpoint, args: tuple[Any, ...], key: str | None) -> Call:
    """A method's arguments as the row takes them: the path's ids in order, then the body if the row has one, then
    the idempotency key if it takes one (also as `key=`)."""
    needed = [*row.path_params, *(["body"] if row.body is not None else [])]
    taken = [*needed, *(["key"] if row.idempotent else [])]
    if not len(needed) <= len(args) <= len(taken) or (key is not None and len(args) > len(needed)):
        raise TypeError(f"{row.name}() takes ({', '.join(taken)}); got {len(args)} positional arguments")
    ids = tuple(args[: len(row.path_params)])
    body: Json = args[len(row.path_params)] if row.body is not None else {}
    return Call(ids=ids, body=body, key=args[-1] if len(args) > len(needed) else key)


def _method(row: Endpoint) -> Callable[..., Any]:
    def method(self: EndpointMethods, *args: Any, key: str | None = None) -> Any:
        return self.call(row, arguments(row, args, key))

    method.__name__ = method.__qualname__ = row.name
    method.__doc__ = f"{row.method} {row.path}" + (f": {row.doc}" if row.doc else "")
    return method


class EndpointMethods:
    """Every client row of the table as a method of the same name (the `ServerBackend` Protocol's)."""

    def call(self, row: Endpoint, call: Call) -> Any:
        """Send one row: a dict for an object, the list of every row for a page."""
        raise NotImplementedError


for _row in ENDPOINTS:
    if _row.client and _row.service is not None:  # a client row without a service call is each backend's own
        setattr(EndpointMethods, _row.name, _method(_row))
