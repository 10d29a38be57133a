"""tests/interop: MedPerf's client's requests against our server, and our client against a MedPerf-shaped server."""

from _interop_server import medperf_server

__all__ = ["medperf_server"]
