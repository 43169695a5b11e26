"""The generation a worker serves: opening it, noticing a new one, switching, refusing bad ones.

``Lifecycle.current()`` answers the ``Served`` generation (its reader and what the engine derives
from it once: length norms, suggestions, an answer cache). A worker looks at ``CURRENT`` at most
once per ``refresh_interval`` — from a watcher thread started after the fork (so a new
generation is picked up even when no request comes), and on a request when the watcher is not
running (tests, benchmarks). A new generation is opened in a background thread while the
current one keeps answering, and takes over once open; opening maps files and reads a few
arrays, so it takes milliseconds, plus the checksums of the files this process has not seen
(an update's new segment only).

A generation that cannot be opened (a checksum mismatch, a missing file, a ``CURRENT`` naming
nothing usable) is refused: the worker keeps serving the one it has, logs why, and ``problem``
says it for ``/ready``. With nothing to serve, requests get ``IndexUnavailable`` and its reason.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

import numpy as np

from index.generations import Generation, GenerationError, IndexRoot
from index.manifest import CorruptGeneration
from search.errors import IndexUnavailable
from search.ranking import RankingConfig, recency_factor
from search.retrieval import Norms
from search.segments import GenerationReader
from search.suggestions import Suggestions

log = logging.getLogger("presse.search")

SWITCH_WAIT_S = 0.25  # how long a request waits for a new generation being opened
RESULTS_CACHED = 2048  # answers (search pages, similar lists) a worker keeps per generation
# A generation replaced by a newer one is closed this long after, when no request that started
# on it can still be running (the time budget is 2 s, gunicorn's timeout 30 s).
RETIRE_AFTER_S = 60.0


class ResultCache:
    """The most recently asked answers of one generation (least recently used ones go first)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._answers: OrderedDict[Hashable, object] = OrderedDict()

    def get(self, key: Hashable) -> object | None:
        answer = self._answers.get(key)
        if answer is not None:
            self._answers.move_to_end(key)
        return answer

    def put(self, key: Hashable, answer: object) -> None:
        self._answers[key] = answer
        if len(self._answers) > self.size:
            self._answers.popitem(last=False)


class SimilarView:
    """An opened generation as ``search.similar.SimilarIndex`` reads it (its caches are kept
    per object, so one per generation)."""

    def __init__(self, reader: GenerationReader, norms: Norms, analyzers: tuple[Any, Any]):
        self.reader = reader
        self.n_docs = reader.n_docs
        self.documents = reader.documents
        self.live = reader.live
        self.published = reader.published
        self.sections = reader.sections
        self.norms = norms.fields
        self.analyzers = analyzers
        self.postings = reader.postings
        self.doc_frequency = reader.doc_frequency
        self.stored = reader.stored
        self.docnum = reader.docnum


class Served:
    """One opened generation and what the engine derives from it once."""

    def __init__(self, generation: Generation, config: RankingConfig) -> None:
        self.generation = generation
        self.reader = GenerationReader(generation)
        try:
            # Queries are analysed by the analyzers pickled in this index, as its documents were.
            self.analyzers: tuple[Any, Any] = self.reader.analyzers()
            self.norms = Norms(self.reader, config.b)
            self.suggestions = Suggestions(self.reader, self.analyzers, config)
            self.similar_view = SimilarView(self.reader, self.norms, self.analyzers)
            self.results = ResultCache(RESULTS_CACHED)
            self._recency: dict[tuple[float, float], np.ndarray | None] = {}
        except BaseException:
            self.reader.close()
            raise

    @property
    def id(self) -> str:
        return self.generation.id

    def recency(self, weight: float, half_life_days: float) -> np.ndarray | None:
        """The recency factor of every document, computed once per generation (it cost ~2.5 ms
        a search on the shared corpus)."""
        key = (weight, half_life_days)
        if key not in self._recency:
            self._recency[key] = recency_factor(
                self.reader.published, weight, half_life_days, self.reader.newest_day
            )
        return self._recency[key]

    def close(self) -> None:
        self.reader.close()


class _Opening:
    """A generation being opened in a background thread."""

    def __init__(self, generation: Generation, config: RankingConfig) -> None:
        self.generation = generation
        self.served: Served | None = None
        self.error: Exception | None = None
        self.done = threading.Event()
        threading.Thread(
            target=self._open, args=(config,), name=f"open-{generation.id}", daemon=True
        ).start()

    def _open(self, config: RankingConfig) -> None:
        try:
            self.served = Served(self.generation, config)
        except Exception as exc:
            self.error = exc
        finally:
            self.done.set()


def _why(exc: BaseException) -> str:
    if isinstance(exc, CorruptGeneration | GenerationError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}; if an older version built it, run a full reindex"


class Lifecycle:
    """The served generation of one worker; see the module docstring."""

    def __init__(self, root: IndexRoot, config: RankingConfig, refresh_interval_s: float) -> None:
        self.root = root
        self.config = config
        self.refresh_interval_s = refresh_interval_s
        self.problem: str | None = None  # why the newest generation is not the one served
        self._served: Served | None = None
        self._opening: _Opening | None = None
        self._refused: str | None = None  # the generation refused last (not retried)
        self._checked_at = -float("inf")
        self._lock = threading.Lock()
        self._watcher: threading.Thread | None = None
        self._stop = threading.Event()
        self._retired: list[tuple[float, Served]] = []  # replaced generations, and since when

    def current(self) -> Served:
        """The generation to answer from (see the module docstring)."""
        served = self._served
        watched = self._watcher is not None and self._watcher.is_alive()
        if (
            served is not None
            and self._opening is None
            and (watched or time.monotonic() - self._checked_at < self.refresh_interval_s)
        ):
            return served
        with self._lock:
            self._refresh(wait=SWITCH_WAIT_S)
            if self._served is None:
                raise IndexUnavailable(
                    self.problem or "the index is being opened; try again in a moment"
                )
            return self._served

    def watch(self) -> None:
        """Look for new generations from a thread, every ``refresh_interval`` (after a fork)."""
        if self._watcher is not None or self.refresh_interval_s <= 0:
            return
        self._watcher = threading.Thread(target=self._watch, name="presse-generations", daemon=True)
        self._watcher.start()

    def _watch(self) -> None:
        while not self._stop.wait(self.refresh_interval_s):
            try:
                with self._lock:
                    self._refresh(wait=self.refresh_interval_s)
            except Exception:  # never let the watcher die; requests still refresh without it
                log.exception("looking for a new index generation failed")

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            if self._served is not None:
                self._served.close()
                self._served = None
            for _, served in self._retired:
                served.close()
            self._retired.clear()

    def _refresh(self, wait: float) -> None:
        """Look at ``CURRENT`` if it is time, and take over a generation opened meanwhile."""
        now = time.monotonic()
        while self._retired and now - self._retired[0][0] > RETIRE_AFTER_S:
            self._retired.pop(0)[1].close()
        if self._served is None or now - self._checked_at >= self.refresh_interval_s:
            self._checked_at = now
            self._look()
        opening = self._opening
        if opening is not None:
            opening.done.wait(wait if self._served is not None else None)
            if opening.done.is_set():
                self._take_over(opening)

    def _look(self) -> None:
        try:
            generation = self.root.current()
        except (GenerationError, OSError) as exc:
            reason = (
                str(exc)
                if isinstance(exc, GenerationError)
                else (f"the index root cannot be read ({type(exc).__name__})")
            )
            if self._served is not None and self.problem != reason:
                log.error("%s; still serving generation %s", reason, self._served.id)
            self.problem = reason
            return
        if self._served is not None and generation.id == self._served.id:
            self.problem = None
            return
        if generation.id == self._refused:
            return
        if self._opening is None or self._opening.generation.id != generation.id:
            self._opening = _Opening(generation, self.config)

    def _take_over(self, opening: _Opening) -> None:
        self._opening = None
        if opening.served is None:
            assert opening.error is not None
            self._refused = opening.generation.id
            self.problem = f"generation {opening.generation.id} was refused: {_why(opening.error)}"
            log.error(
                "%s; still serving %s", self.problem, self._served.id if self._served else "nothing"
            )
            return
        # The old generation is not closed here: a request in another thread may still hold
        # it. It is closed RETIRE_AFTER_S later (or with the lifecycle).
        if self._served is not None:
            self._retired.append((time.monotonic(), self._served))
        self._served = opening.served
        self._refused = None
        self.problem = None
        log.info(
            "serving generation %s (%d documents)",
            opening.served.id,
            opening.served.reader.documents,
        )
