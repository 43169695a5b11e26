"""Who may call the admin routes: bearer tokens, compared in constant time, with backoff.

``PRESSE_ADMIN_TOKEN`` holds ``label:token`` pairs; the label is who the audit trail says made
a change. The token travels in ``Authorization: Bearer …`` only: never in the URL (it would
land in access logs and browser history) and never in a cookie (a cross-site request would
carry it). Each token is compared with ``hmac.compare_digest``, and every configured token is
compared whatever the outcome, so the time taken says nothing about which one nearly matched.

Repeated failures are slowed down per process: after ``FREE_FAILURES`` wrong tokens in a row,
every admin request is refused with 429 for a delay that doubles with each further failure
(up to ``MAX_DELAY_S``), a right token included; a success resets the count. With 2 × cores + 1
workers that bounds a guesser to a few tries per minute; with a 20-character token (the
minimum the setting accepts) guessing is hopeless anyway.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Callable, Sequence

from search.errors import TooManyAttempts, Unauthorized

FREE_FAILURES = 5
FIRST_DELAY_S = 1.0
MAX_DELAY_S = 300.0


class AdminGuard:
    """Checks the ``Authorization`` header of admin requests; one per process."""

    def __init__(
        self, tokens: Sequence[tuple[str, str]], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._tokens = [(label, token.encode("utf-8")) for label, token in tokens]
        self._clock = clock
        self._failures = 0
        self._blocked_until = 0.0
        self._lock = threading.Lock()

    def check(self, authorization: str | None) -> str:
        """The label of the token given, or ``Unauthorized`` / ``TooManyAttempts``."""
        now = self._clock()
        with self._lock:
            if now < self._blocked_until:
                wait = max(1, round(self._blocked_until - now))
                raise TooManyAttempts(
                    f"too many wrong tokens; try again in {wait} s",
                    headers={"Retry-After": str(wait)},
                )
        scheme, _, given = (authorization or "").partition(" ")
        label = self._match(given.strip().encode("utf-8")) if scheme.lower() == "bearer" else None
        with self._lock:
            if label is not None:
                self._failures = 0
                return label
            self._failures += 1
            if self._failures >= FREE_FAILURES:
                delay = min(FIRST_DELAY_S * 2 ** (self._failures - FREE_FAILURES), MAX_DELAY_S)
                self._blocked_until = now + delay
        raise Unauthorized(
            "send the admin token as: Authorization: Bearer <token>",
            headers={"WWW-Authenticate": 'Bearer realm="presse-search admin"'},
        )

    def _match(self, given: bytes) -> str | None:
        found = None
        for label, token in self._tokens:  # every token, whatever matched: constant time
            if hmac.compare_digest(given, token) and found is None:
                found = label
        return found
