"""The one error hierarchy: every failure a user can meet is a MedperfError with a one-line message and a fix."""

from __future__ import annotations


class MedperfError(Exception):
    """Base of every error the CLI shows as one line. `hint` says how to fix it."""

    exit_code: int = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class UserError(MedperfError):
    """Bad input: a wrong flag, a missing path, a malformed file."""

    exit_code = 2


class NotFoundError(UserError):
    """An id, UID, profile or file that does not exist."""


class InvalidTransitionError(UserError):
    """A state machine refused a step (e.g. preparing an operational dataset)."""


class PermissionDeniedError(MedperfError):
    """The caller is authenticated but not allowed to do this."""

    exit_code = 3


class PolicyRefusedError(PermissionDeniedError):
    """The site's own policy does not let this container run on the site's data."""


class AuthenticationError(MedperfError):
    """No valid credentials."""

    exit_code = 3


class ConflictError(MedperfError):
    """Something already exists or changed under us."""

    exit_code = 4


class ConcurrencyError(ConflictError):
    """An append at a stale expected version: another writer got there first."""


class TooLargeError(UserError):
    """An upload past the server's size limit; the HTTP API answers 413."""


class FieldError(UserError):
    """A request field is wrong; the HTTP API renders it as `{field: [message]}` with 400."""

    def __init__(self, field: str, message: str, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.field = field


class FieldConflictError(ConflictError):
    """A unique field clashes with an existing entity; rendered as `{field: [message]}` with 409."""

    def __init__(self, field: str, message: str, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.field = field


class IntegrityError(MedperfError):
    """A stored event log, file or image does not match its recorded hash."""

    exit_code = 5


class PluginError(MedperfError):
    """A plugin failed to load, registered a duplicate, or names an unknown implementation."""


class ConfigError(UserError):
    """A configuration file (profile, container config) is invalid."""


class RunnerError(MedperfError):
    """A container engine is unavailable or a container run failed."""

    exit_code = 6


class EngineUnavailableError(RunnerError):
    """The container engine is not installed or not running."""


class ContainerFailedError(RunnerError):
    """A container exited non-zero, timed out, or did not write its outputs."""


class ServerError(MedperfError):
    """The server could not be reached or answered with an error."""

    exit_code = 7


class AlreadyDone(Exception):
    """Not a failure: an earlier attempt of the command (killed after the server had accepted its request) did what
    it asks, and this run has just recorded the server's answer. The CLI prints the message and exits 0."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CancelledError(MedperfError):
    """The user answered no to a confirmation."""

    exit_code = 1
