"""The `medperf` command line: one module per command group, assembled after plugins load."""
