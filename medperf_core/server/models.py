"""Request bodies at the HTTP boundary: unknown and read-only fields (id, owner, created_at, …) are ignored."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

State = Literal["DEVELOPMENT", "OPERATION"]
Approval = Literal["PENDING", "APPROVED", "REJECTED"]
JsonObject = dict[str, Any]


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore")

    def data(self) -> dict[str, Any]:
        """What the client set, without nulls (a null read-only or optional field means 'not given')."""
        return self.model_dump(exclude_unset=True, exclude_none=True)


class ContainerUpdate(Body):
    name: str | None = None
    git_mlcube_url: str | None = None
    mlcube_hash: str | None = None
    git_parameters_url: str | None = None
    parameters_hash: str | None = None
    image_tarball_url: str | None = None
    image_tarball_hash: str | None = None
    image_hash: str | None = None
    additional_files_tarball_url: str | None = None
    additional_files_tarball_hash: str | None = None
    state: State | None = None
    is_valid: bool | None = None
    metadata: JsonObject | None = None
    user_metadata: JsonObject | None = None
    container_config: JsonObject | None = None
    parameters_config: JsonObject | None = None


class ContainerCreate(ContainerUpdate):
    name: str


class BenchmarkUpdate(Body):
    name: str | None = None
    description: str | None = None
    docs_url: str | None = None
    demo_dataset_tarball_url: str | None = None
    demo_dataset_tarball_hash: str | None = None
    demo_dataset_generated_uid: str | None = None
    data_preparation_mlcube: int | None = None
    reference_model_mlcube: int | None = None
    data_evaluator_mlcube: int | None = None
    metadata: JsonObject | None = None
    user_metadata: JsonObject | None = None
    state: State | None = None
    is_valid: bool | None = None
    is_active: bool | None = None
    approval_status: Approval | None = None


class BenchmarkCreate(BenchmarkUpdate):
    name: str
    data_preparation_mlcube: int
    reference_model_mlcube: int
    data_evaluator_mlcube: int


class DatasetUpdate(Body):
    name: str | None = None
    description: str | None = None
    location: str | None = None
    input_data_hash: str | None = None
    generated_uid: str | None = None
    split_seed: int | None = None
    data_preparation_mlcube: int | None = None
    is_valid: bool | None = None
    submitted_as_prepared: bool | None = None
    state: State | None = None
    generated_metadata: JsonObject | None = None
    user_metadata: JsonObject | None = None
    report: JsonObject | None = None


class DatasetCreate(DatasetUpdate):
    name: str
    input_data_hash: str
    generated_uid: str
    data_preparation_mlcube: int


class DatasetAssociationCreate(Body):
    dataset: int
    benchmark: int
    metadata: JsonObject | None = None
    approval_status: Approval | None = None  # what the client hopes for; the server decides


class ModelAssociationCreate(Body):
    model_mlcube: int
    benchmark: int
    metadata: JsonObject | None = None
    approval_status: Approval | None = None


class AssociationUpdate(Body):
    approval_status: Literal["APPROVED", "REJECTED"] | None = None
    priority: int | None = None


class ResultCreate(Body):
    name: str | None = None
    benchmark: int
    model: int
    dataset: int
    results: JsonObject | None = None
    metadata: JsonObject | None = None


class TokenRequest(Body):
    email: str
