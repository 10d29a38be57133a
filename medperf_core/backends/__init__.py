"""Server backends: how the client reaches a server (HTTP `rest`, or in-process `local`)."""
