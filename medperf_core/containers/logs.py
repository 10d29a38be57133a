"""Capture a container's output to its log file, echoing it live when asked."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import BinaryIO


class LogSink:
    """A thread-safe, unbuffered writer of raw container output to one log file (and optionally stdout)."""

    def __init__(self, path: Path, echo: bool = False) -> None:
        self.path = path
        self.echo = echo
        self._lock = threading.Lock()
        self._file: BinaryIO | None = None
        self.error: OSError | None = None  # why the log file stopped taking output (a full disk)

    def __enter__(self) -> LogSink:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("wb", buffering=0)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def write(self, chunk: bytes) -> None:
        with self._lock:
            if self._file is None:
                return
            if self.error is None:
                try:
                    self._file.write(chunk)
                except OSError as e:  # the log stops; the task goes on, and what it could not write fails it
                    self.error = e
            if self.echo:
                sys.stdout.write(chunk.decode(errors="replace"))
                sys.stdout.flush()

    def note(self, message: str) -> None:
        """A line from medperf itself (e.g. a timeout), marked so it is not mistaken for container output."""
        self.write(f"[medperf] {message}\n".encode())

    def pump(self, chunks: Iterable[bytes]) -> threading.Thread:
        """Copy chunks to the log in a daemon thread (until the iterable ends) and return the thread."""

        def copy() -> None:
            try:
                for chunk in chunks:
                    self.write(chunk)
            except Exception as e:  # the stream breaks when the container is killed; the log says so
                self.note(f"log stream ended: {e}")

        thread = threading.Thread(target=copy, name=f"log:{self.path.name}", daemon=True)
        thread.start()
        return thread
