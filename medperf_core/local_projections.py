"""The client's read models, built from its own event log (filled in with the data-owner flow)."""

from __future__ import annotations

from medperf_core.store import Projection

CLIENT_PROJECTIONS: list[Projection] = []
