"""MedPerf core: domain, event store, plugins and the `medperf` command line.

Plugins mark their hook implementations with `medperf_core.hookimpl` (see `medperf_core.hookspecs`).
"""

from medperf_core.hookspecs import hookimpl

__version__ = "0.1.0"
__all__ = ["__version__", "hookimpl"]
