"""What the watchdog of a Docker run does when its client dies: remove the container, quickly. On the engine's Unix
socket (the usual case) that is one HTTP request with the standard library: the watchdog is ready a fraction of a
second after it starts, where importing the SDK would take most of a second on a busy machine. Other DOCKER_HOSTs
(tcp://, ssh://) go through the SDK, imported and connected before the watchdog waits."""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import urllib.parse
from collections.abc import Callable

_DEFAULT_HOST = "unix:///var/run/docker.sock"
_TIMEOUT_S = 60.0


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=_TIMEOUT_S)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(_TIMEOUT_S)
        self.sock.connect(self._path)


def _remove_over_socket(path: str, name: str) -> None:
    """`DELETE /containers/NAME?force=1`: kill and remove; a 404 (already gone) is fine too."""
    connection = _UnixConnection(path)
    try:
        connection.request("DELETE", f"/containers/{urllib.parse.quote(name)}?force=1")
        connection.getresponse().read()
    finally:
        connection.close()


def remove_container(name: str) -> Callable[[], None]:
    """Kill and remove the container `name` (nothing when it is already gone), armed ahead of time."""
    host = os.environ.get("DOCKER_HOST") or _DEFAULT_HOST
    if host.startswith("unix://"):
        path = host[len("unix://") :]
        return lambda: _remove_over_socket(path, name)
    import docker

    client = docker.from_env()

    def remove() -> None:
        with contextlib.suppress(docker.errors.NotFound):
            client.api.remove_container(name, force=True)

    return remove
