"""The OpenAPI document says what the server really answers: every error status an operation can return, with
the error body's shape, instead of FastAPI's default 422 (this server answers validation errors with 400)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERROR_BODY = "ErrorBody"
_ERROR_SCHEMA: dict[str, Any] = {
    "title": ERROR_BODY,
    "type": "object",
    "description": 'One line per problem: `{"detail": "..."}`, or field → messages (`{"name": ["..."]}`).',
    "additionalProperties": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
}
_ERRORS = {
    "400": "Invalid request: a path, query, header or body value is wrong (each field names its problem).",
    "401": "No valid token: send `Authorization: Bearer <token>`.",
    "403": "Signed in, but not allowed to do this.",
    "404": "No such entity, or one the caller may not see.",
    "409": "Conflicts with the current state (a unique value taken, a decision already made, a reused "
    "Idempotency-Key with another body).",
    "500": "An unexpected server error (a bug): the detail names the exception.",
    "503": "The server is overloaded or restarting: retry later.",
}
_PUBLIC = {"400", "404", "500", "503"}  # operations without authentication (token, stored files)


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_BODY}"}}},
    }


def document(app: FastAPI) -> None:
    """Replace `app.openapi` with one that documents every error status and the error body."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        index = getattr(app.state, "api_routes", None)  # the API's routes behind their SegmentIndex
        routes = [*app.routes, *(index.api_routes() if index is not None else ())]
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=routes)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        components[ERROR_BODY] = _ERROR_SCHEMA
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                responses = operation["responses"]
                responses.pop("422", None)
                public = not operation.get("security")
                for status, description in _ERRORS.items():
                    if public and status not in _PUBLIC:
                        continue
                    responses.setdefault(status, _error(description))
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
