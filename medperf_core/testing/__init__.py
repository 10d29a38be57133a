"""Contract tests and helpers that recorders, runners and plugins reuse in their own test suites."""
