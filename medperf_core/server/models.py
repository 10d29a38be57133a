"""Request bodies at the HTTP boundary, derived from `domain.resources` as the endpoint table names them (never
written by hand).

Unknown and read-only fields (id, owner, created_at, …) are ignored; nulls mean "not given", and so does `""` in a
field that is not text (MedPerf's client sends every unset field as `""`).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, Optional

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, create_model, model_validator

from medperf_core import endpoints
from medperf_core.domain.resources import FieldSpec, Resource
from medperf_core.server.services.fields import TEXT_PATTERN, control_error, size_error


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore")
    _not_text: ClassVar[frozenset[str]] = frozenset()  # fields whose `""` means "not given"

    @model_validator(mode="before")
    @classmethod
    def _empty_is_unset(cls, raw: Any) -> Any:
        if isinstance(raw, dict) and cls._not_text:
            return {k: v for k, v in raw.items() if not (v == "" and k in cls._not_text)}
        return raw

    def data(self) -> dict[str, Any]:
        """What the client set, without nulls (a null read-only or optional field means 'not given')."""
        return self.model_dump(exclude_unset=True, exclude_none=True)


MAX_INT = 2**63 - 1  # what the database stores: larger integers are refused with 400, never reach it


def _size_check(spec: FieldSpec) -> Any:
    """The field's size limit, and no control characters in its text (`control_error`)."""

    def check(value: Any) -> Any:
        problem = size_error(spec, value) or control_error(value)
        if problem:
            raise ValueError(problem)
        return value

    return AfterValidator(check)


def _declared(spec: FieldSpec) -> Any:
    """The size limit as the OpenAPI document states it (enforced by `_size_check`, with the local backend's
    message): `maxLength` for text; for JSON fields, whose limit is on their JSON text, in the description."""
    limit = spec.size_limit()
    if spec.kind is str:
        return Field(json_schema_extra={"maxLength": limit, "pattern": TEXT_PATTERN})
    return Field(description=f"At most {limit} characters as compact JSON text; no control characters but tab, "
                 "line feed and carriage return in its text.")


def _annotation(spec: FieldSpec) -> Any:
    if spec.choices:
        return Literal[spec.choices]
    if spec.kind is int:
        return Annotated[int, Field(ge=-MAX_INT - 1, le=MAX_INT)]
    if spec.kind is str and spec.required:
        return Annotated[str, Field(min_length=1), _declared(spec), _size_check(spec)]
    if spec.kind is str:
        return Annotated[str, _declared(spec), _size_check(spec)]  # the same message as the local backend's
    if spec.kind is list:
        return Annotated[list[str], _declared(spec), _size_check(spec)]
    if spec.kind is dict:
        return Annotated[dict[str, Any], _declared(spec), _size_check(spec)]
    return spec.kind


def body_model(resource: Resource, name: str, *, creating: bool) -> type[Body]:
    """The model of a POST (`creating`: required fields must be present) or a PUT of the resource."""
    fields: dict[str, Any] = {}
    for spec in resource.writable():
        annotation = _annotation(spec)
        if creating and spec.required:
            fields[spec.name] = (annotation, ...)
        else:
            fields[spec.name] = (Optional[annotation], None)  # noqa: UP045 (a runtime type expression)
    model: type[Body] = create_model(name, __base__=Body, __doc__="Derived from the resource; see `body_model`.",
                                     **fields)
    model._not_text = frozenset(spec.name for spec in resource.writable() if spec.kind is not str)
    return model


_MODELS: dict[tuple[str, bool], type[Body]] = {}


def request_model(body: endpoints.Body, method: str) -> type[Body]:
    """The model of a row's body (endpoints.py), under the name the row gives it: a POST's creates (required
    fields must be present), a PUT's changes. Built once per name: the OpenAPI document shows each name once."""
    creating = method == "POST"
    known = _MODELS.get((body.model, creating))
    if known is None:
        known = _MODELS[(body.model, creating)] = body_model(body.resource, body.model, creating=creating)
    return known


class TokenRequest(Body):
    email: str
