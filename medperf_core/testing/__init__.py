"""Test helpers shipped with medperf: contract tests that plugins (runners, recorders) must pass."""
