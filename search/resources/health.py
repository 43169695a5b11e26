"""``GET /health`` (liveness: the process answers, no index touched) and ``GET /ready``
(readiness: 200 with the open generation, or the 503 of ``IndexUnavailable`` with its reason).
Neither is ever cached.

On a replica (``PRESSE_REPLICATE_FROM`` set), ``/ready`` adds ``replication`` (from the
follower's ``REPLICA.json``: source, its generation, lag in generations and seconds, last
success, last error) and answers 503, with the reason in ``unready``, when the replica is more
than ``PRESSE_MAX_LAG`` behind or its follower has stopped writing its status (not running).
An unreachable publisher alone does not: the replica still serves what it has, and taking
every replica out of the load balancer because the publisher died would leave no search at all.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

import falcon

from index import replica_status

if TYPE_CHECKING:
    from search.config import Settings
    from search.engine import Engine


class Health:
    cacheable: ClassVar[bool] = False

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"status": "ok"}

    on_head = on_get  # the same answer without its body (Falcon drops it)


class Ready:
    cacheable: ClassVar[bool] = False

    def __init__(self, engine: Engine, settings: Settings | None = None) -> None:
        self.engine = engine
        self.settings = settings

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = self.engine.status().to_dict()
        if self.settings is not None and self.settings.replicate_from:
            report, unready = replication(self.settings, datetime.now(UTC))
            body["replication"] = report
            if unready is not None:
                resp.status = falcon.HTTP_503
                body["unready"] = unready
        resp.media = body

    on_head = on_get  # the same answer without its body (Falcon drops it)


def replication(settings: Settings, now: datetime) -> tuple[dict[str, Any], str | None]:
    """A replica's ``replication`` report, and why it is not ready (None when it is)."""
    status = replica_status.read(settings.index_dir)
    if status is None:
        empty = dict.fromkeys(("source", "source_generation", "last_success", "error"))
        return empty | {"lag_generations": None, "lag_s": None}, (
            "the replica's follower has written no status yet (starting, or not running)"
        )
    lag_s = status.lag_s(now)
    report = {
        "source": status.source,
        "source_generation": status.source_generation,
        "lag_generations": status.behind_generations,
        "lag_s": round(lag_s, 1),
        "last_success": status.last_success,
        "error": status.error,
    }
    age = status.age_s(now)
    stale_after = 3 * settings.replication_poll_s + replica_status.STALE_GRACE_S
    limit = settings.max_lag
    if age is None or age > stale_after:
        return report, (
            f"the follower last wrote its status {age or 0:.0f} s ago (more than "
            f"{stale_after:.0f} s): it is not running"
        )
    if limit.generations is not None and status.behind_generations > limit.generations:
        return report, (
            f"{status.behind_generations} generations behind the source "
            f"(PRESSE_MAX_LAG allows {limit.generations})"
        )
    if limit.seconds is not None and lag_s > limit.seconds:
        return report, (
            f"{lag_s:.0f} s behind the source (PRESSE_MAX_LAG allows {limit.seconds:g} s)"
        )
    return report, None
