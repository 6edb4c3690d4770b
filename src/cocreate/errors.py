"""Errors the domain raises when a rule refuses an action.

Each carries an untranslated message (marked with ``N_`` for extraction) and the HTTP
status a view answers with; views translate the message into the user's language.
"""

from __future__ import annotations

from typing import Any


class RuleError(Exception):
    status_code = 400

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


class Invalid(RuleError):
    """The input breaks a rule (empty, too long, unknown choice…)."""

    status_code = 422


class NotFound(RuleError):
    status_code = 404


class UnknownCode(NotFound):
    """No session has this join code: a guess, when it comes too often (see limits)."""


class UnknownMemberCode(NotFound):
    """No member has this voting code (or not in this organisation): a guess, when it
    comes too often (see limits)."""


class Forbidden(RuleError):
    status_code = 403


class Conflict(RuleError):
    """The action no longer fits the state (closed session, closed vote, stale form)."""

    status_code = 409


class Throttled(RuleError):
    """Too many attempts from here, or from everywhere: come back in ``retry_after`` s
    (the message's ``n``; answered with a Retry-After header)."""

    status_code = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, n=retry_after)
        self.retry_after = retry_after
