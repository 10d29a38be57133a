"""Container configuration, the runner interface and the shared run logic (no engine imports here)."""
