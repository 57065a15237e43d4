"""Exceptions of our own.

The domain raises these; the CLI turns every one of them into a one-line message and a
non-zero exit code in one place (``investigate.cli.main``). Messages name *where* (file,
line, column, id) and *what* was expected, because the person reading them is a reporter in
the field who must fix the input without reading code.
"""


class InvestigateError(Exception):
    """Base class: anything the user can act on."""

    exit_code = 1


class NotAWorkspace(InvestigateError):
    """No investigate.toml here or above, and no INVESTIGATE_HOME."""


class WorkspaceExists(InvestigateError):
    """``init`` refuses to overwrite a workspace."""


class NotFound(InvestigateError):
    """An id, prefix, slug or code that matches nothing."""


class AmbiguousPrefix(InvestigateError):
    """A prefix that matches more than one row; the message lists the candidates."""

    def __init__(self, kind: str, prefix: str, candidates: list[str], *, hint: str | None = None):
        self.kind = kind
        self.prefix = prefix
        self.candidates = candidates
        shown = ", ".join(candidates[:10]) + (" …" if len(candidates) > 10 else "")
        count = f"{len(candidates)}{'+' if len(candidates) >= 50 else ''}"
        super().__init__(
            f"{kind} {prefix!r} is ambiguous: {count} match ({shown})" + (f"; {hint}" if hint else "")
        )


class InvalidInput(InvestigateError):
    """A value that does not fit: a bad answer, an impossible date, a malformed option."""


class InputFileError(InvestigateError):
    """A problem in an input file, located by file, line and column."""

    def __init__(self, path, reason: str, *, line: int | None = None, column: str | None = None):
        self.path = str(path)
        self.line = line
        self.column = column
        self.reason = reason
        where = self.path
        if line is not None:
            where += f":{line}"
        if column:
            where += f": column {column!r}"
        super().__init__(f"{where}: {reason}")


class ProtocolError(InvestigateError):
    """A protocol file that does not validate; names the file and the key."""


class IntegrityError(InvestigateError):
    """``verify`` found an altered record, a broken chain link or a changed evidence file."""

    exit_code = 3


class PolicyError(InvestigateError):
    """An action the project's rules forbid (publishing too early, an unsafe bind address)."""


class MissingTranslation(InvestigateError):
    """A report or letter asked for a language that a protocol or case has no text in."""
