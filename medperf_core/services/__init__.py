"""Client use cases: what the data-owner commands call. They talk to a server backend, a runner and the log."""
