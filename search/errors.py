"""The errors the search side raises, translated to HTTP in exactly one place (``search.app``).

    SearchError                  base; ``status`` and ``code`` say how it answers over HTTP
    ├── BadQuery                 400 a parameter is missing or out of range
    ├── ArticleNotFound          404 no article has this id
    ├── PayloadTooLarge          413 a request body over its limit (``POST /similar``)
    ├── IndexUnavailable         503 no index is open (none built yet, CURRENT broken, unreadable)
    ├── SearchTimeout            503 the search ran past its time budget
    ├── NoSuchItem               404 no synonym rule or pin has this id (admin routes)
    ├── StorageUnavailable       503 the analytics file cannot be used (admin routes only)
    ├── Unauthorized             401 an admin route without the right bearer token
    └── TooManyAttempts          429 too many wrong admin tokens lately (per process)

Every error answers the same JSON shape: ``{"error": {"code", "message", "parameter"?}}``.
"""

from __future__ import annotations


class SearchError(Exception):
    """Something the reader or the site should be told about, in one JSON shape."""

    status = 500
    code = "internal_error"

    def __init__(
        self, message: str, *, parameter: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.parameter = parameter
        self.headers = headers or {}

    def to_dict(self) -> dict[str, object]:
        error: dict[str, object] = {"code": self.code, "message": self.message}
        if self.parameter is not None:
            error["parameter"] = self.parameter
        return {"error": error}


class BadQuery(SearchError):
    """A query parameter is missing, malformed or out of range."""

    status = 400
    code = "bad_request"


class ArticleNotFound(SearchError):
    """No indexed article has this id."""

    status = 404
    code = "not_found"


class PayloadTooLarge(SearchError):
    """A request body is larger than the endpoint accepts."""

    status = 413
    code = "payload_too_large"


class IndexUnavailable(SearchError):
    """No index generation can be opened right now."""

    status = 503
    code = "index_unavailable"


class SearchTimeout(SearchError):
    """The search ran past its time budget."""

    status = 503
    code = "timeout"


class NoSuchItem(SearchError):
    """No synonym rule or pin has this id."""

    status = 404
    code = "not_found"


class StorageUnavailable(SearchError):
    """The analytics and editorial file cannot be used right now."""

    status = 503
    code = "storage_unavailable"


class Unauthorized(SearchError):
    """An admin route was called without the right bearer token."""

    status = 401
    code = "unauthorized"


class TooManyAttempts(SearchError):
    """Too many wrong admin tokens lately; try again after Retry-After seconds."""

    status = 429
    code = "too_many_attempts"
