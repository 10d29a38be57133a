"""MedPerf core: domain, event store, plugins and the `medperf` command line."""

__version__ = "0.1.0"
