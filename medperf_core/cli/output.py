"""Standard output that a closed reader cannot break: `medperf ... | head -1` must not stop a preparation or a run.

Once the reader has gone, writing raises BrokenPipeError (Python ignores SIGPIPE). `closed_output_tolerated`
puts a thin wrapper around sys.stdout and sys.stderr for one command: the first broken pipe points the stream's
file descriptor at /dev/null (so neither later writes, nor the flush at exit, nor a child process that inherits
it can fail), and from then on what the command prints is dropped while its work goes on.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any, TextIO


def _is_closed_pipe(error: OSError) -> bool:
    return isinstance(error, BrokenPipeError) or error.errno in (errno.EPIPE, errno.EINVAL)


class PipeSafeStream:
    """A text stream that forwards to `inner` until its reader goes away, then drops what is written."""

    def __init__(self, inner: TextIO) -> None:
        self._inner = inner
        self.reader_gone = False

    def _silence(self) -> None:
        self.reader_gone = True
        try:
            descriptor = self._inner.fileno()
        except (OSError, ValueError, AttributeError):  # not backed by a descriptor (a test's capture)
            return
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, descriptor)
        finally:
            os.close(devnull)

    def write(self, text: str) -> int:
        if not isinstance(text, str):  # click probes with b"" to tell text streams from binary ones
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if self.reader_gone:
            return len(text)
        try:
            return self._inner.write(text)
        except OSError as e:
            if not _is_closed_pipe(e):
                raise
            self._silence()
            return len(text)

    def flush(self) -> None:
        if self.reader_gone:
            self._flush_quietly()
            return
        try:
            self._inner.flush()
        except OSError as e:
            if not _is_closed_pipe(e):
                raise
            self._silence()
            self._flush_quietly()  # what was buffered now goes to /dev/null, so nothing fails at exit

    def _flush_quietly(self) -> None:
        with suppress(OSError):
            self._inner.flush()

    def isatty(self) -> bool:
        return False if self.reader_gone else self._inner.isatty()

    def __getattr__(self, name: str) -> Any:  # encoding, errors, fileno, buffer ...: the inner stream's
        return getattr(self._inner, name)


@contextmanager
def closed_output_tolerated() -> Iterator[None]:
    """For the duration of one command, sys.stdout and sys.stderr survive a reader that goes away."""
    saved = sys.stdout, sys.stderr
    if sys.stdout is not None and not isinstance(sys.stdout, PipeSafeStream):
        sys.stdout = PipeSafeStream(sys.stdout)
    if sys.stderr is not None and not isinstance(sys.stderr, PipeSafeStream):
        sys.stderr = PipeSafeStream(sys.stderr)
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            if isinstance(stream, PipeSafeStream):
                stream.flush()
        sys.stdout, sys.stderr = saved
