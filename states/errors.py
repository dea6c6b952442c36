"""The one error tree of Lotse; every message says what is wrong and what to do next.

    LotseError
    ├── BadInput                  exit 2: the user's input is malformed
    │   ├── DefinitionError       a process definition is invalid (file, key path, problem)
    │   └── BadFactValue          a value does not fit its fact's type, or the fact is unknown
    ├── Refused                   exit 1: well-formed, but the rules or the data say no
    │   ├── NotFound              unknown case, actor, process or checklist item
    │   ├── OpeningRefused        this actor may not open this case (roles, scope, § 38 BeschV)
    │   ├── EventNotAllowed       the event does not exist or is not allowed from this stage
    │   ├── RoleMissing           the actor lacks a role the definition asks for
    │   ├── NotYours              the case is not one of the actor's (employer, region, named on)
    │   ├── RequirementsMissing   checklist items or facts are missing
    │   ├── Conflict              the case changed since it was read; nothing was written
    │   ├── NotReady              the database or a setting is not there yet
    │   └── DatabaseFailure       the database failed the command (busy, full, gone, a value too wide)
    └── NotSubmitted              a form was not submitted in time; nothing was written
"""

from __future__ import annotations


class LotseError(Exception):
    """Base of every error a user can cause or fix."""

    exit_code = 1


class BadInput(LotseError):
    exit_code = 2


class DefinitionError(BadInput):
    def __init__(self, file: str, path: str, problem: str) -> None:
        self.file, self.path, self.problem = file, path, problem
        where = f"{file}: {path}" if path else file
        super().__init__(f"{where}: {problem}")


class BadFactValue(BadInput):
    pass


class Refused(LotseError):
    exit_code = 1


class NotFound(Refused):
    pass


class OpeningRefused(Refused):
    """Who may open a case for whom; `column` and `reason` repeat no value, for import problems."""

    def __init__(self, message: str, *, column: str, reason: str) -> None:
        self.column, self.reason = column, reason
        super().__init__(message)


class EventNotAllowed(Refused):
    def __init__(self, ref: str, event: str, stage: str, allowed: list[str]) -> None:
        self.allowed = allowed
        now = ", ".join(allowed) if allowed else "none (the stage is final)"
        super().__init__(
            f"{ref}: event '{event}' is not allowed in stage '{stage}'; allowed now: {now}"
        )


class RoleMissing(Refused):
    def __init__(self, actor: str, action: str, roles: list[str]) -> None:
        self.roles = roles
        super().__init__(
            f"actor '{actor}' may not {action}: it needs one of the roles {', '.join(roles)}"
        )


class NotYours(Refused):
    """The actor may not act on this case at all (`states.scope`); names organisations and the
    region, never a person."""

    def __init__(self, actor: str, ref: str, *, employer: str, region: str, employer_only: bool) -> None:
        self.actor, self.ref = actor, ref
        if employer_only:
            why = f"the case is of employer {employer}, and an employer acts on its own cases only"
        else:
            why = f"the case is of region {region} and employer {employer}, and {actor} is not named on it"
        super().__init__(f"actor '{actor}' may not act on {ref}: {why}")


class RequirementsMissing(Refused):
    def __init__(self, ref: str, event: str, missing: list[str]) -> None:
        self.missing = missing
        super().__init__(
            f"{ref}: '{event}' needs {'; '.join(missing)}. "
            f"Tick the items with `lotse case done` and set the facts with `lotse case set`"
        )


class Conflict(Refused):
    def __init__(self, ref: str, expected: int | None, actual: int | None = None) -> None:
        now = f" (now version {actual})" if actual is not None else ""
        since = f"since version {expected}{now}" if expected is not None else "since it was read"
        super().__init__(
            f"{ref} changed {since}; nothing was written. "
            "Look at it again (`lotse case show`) and retry"
        )


class NotReady(Refused):
    pass


class DatabaseFailure(Refused):
    """The database refused or lost the command; its transaction was rolled back
    (`states.database_failures` says what happened, never a statement's values)."""


class NotSubmitted(LotseError):
    """A form (the `work-case` run's) was not submitted before its time ran out."""
