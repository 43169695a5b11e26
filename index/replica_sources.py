"""Where a replica copies generations from: a publisher over HTTP, or a plain index root folder.

Both answer the same questions: which generation is current (with its metadata, manifest and the
list of ready generations), a given generation's, a file's bytes from an offset (to resume a
partial copy), and they take the replica's acknowledgement.

- ``HttpSource``: the publisher's ``/replication/...`` routes (``search.resources.replication``)
  with ``Authorization: Bearer <token>``, through ``urllib`` (nothing to install). A URL's
  user and password, if any, are never shown (``description``).
- ``DirectorySource``: ``<PATH>/CURRENT`` and ``<PATH>/generations/<id>/`` read directly (a
  shared or mounted folder); acks go to ``<PATH>/replicas/<name>.json`` when the folder is
  writable, else a warning is logged once and copying goes on.

Errors are ``SourceError`` (unreachable, refused, unreadable) with a message for the status file,
and ``GenerationGone`` when the generation or file asked for is no longer there (pruned).
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from index import manifest, replicas
from index.generations import IndexRoot
from index.manifest import Manifest

log = logging.getLogger("presse.replica")

HTTP_TIMEOUT_S = 30.0  # per socket operation; a publisher busy building still answers in ms


class SourceError(Exception):
    """The source cannot answer (unreachable, refused, or an answer that makes no sense)."""


class GenerationGone(SourceError):
    """The generation (or one of its files) is not at the source any more: it was pruned."""


@dataclass(frozen=True)
class Published:
    """A ready generation at the source."""

    generation: str
    meta: dict[str, Any]
    manifest: Manifest
    generations: tuple[str, ...]  # the source's ready generations, oldest first ((): unknown)


class Source(Protocol):
    description: str

    def current(self) -> Published | None:
        """The source's live generation; None when it has none yet."""

    def generation(self, gen_id: str) -> Published:
        """That generation, or ``GenerationGone``."""

    def open(self, gen_id: str, name: str, offset: int, length: int) -> tuple[BinaryIO, int]:
        """A stream of the file's bytes from ``offset`` (the caller reads at most ``length``),
        and the offset it really starts at (0 when the source cannot resume: then the whole
        file follows)."""

    def ack(self, ack: replicas.Ack) -> None:
        """Tell the source what this replica serves and copies; never raises."""


def _published(data: Any, where: str) -> Published:
    try:
        gen_id = str(data["generation"])
        meta = data["meta"]
        parsed = Manifest.from_json(json.dumps(data["manifest"]))
        listed = tuple(str(g) for g in data.get("generations") or ())
    except (KeyError, TypeError, ValueError) as exc:
        raise SourceError(f"{where}: not a generation description ({exc!r})") from None
    if not isinstance(meta, dict):
        raise SourceError(f"{where}: the generation's metadata is not an object")
    return Published(gen_id, meta, parsed, listed)


class HttpSource:
    """A publisher's ``/replication/...`` routes."""

    def __init__(self, url: str, token: str | None, timeout_s: float = HTTP_TIMEOUT_S) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
        self.base = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
        self.description = self.base  # never the user and password a URL may carry
        self.token = token
        self.timeout_s = timeout_s

    def _request(
        self, path: str, headers: dict[str, str] | None = None, body: bytes | None = None
    ) -> Any:
        request = urllib.request.Request(self.base + path, data=body, headers=headers or {})
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            return urllib.request.urlopen(request, timeout=self.timeout_s)
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code == 404:
                raise GenerationGone(f"{self.description}{path}: not found (404)") from None
            if exc.code == 401:
                raise SourceError(
                    f"{self.description} refused the replication token (401): check "
                    "PRESSE_REPLICATION_TOKEN or the token file"
                ) from None
            raise SourceError(f"{self.description}{path}: HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SourceError(f"{self.description} unreachable ({reason})") from None

    def _json(self, path: str) -> Any:
        with self._request(path) as resp:
            try:
                return json.load(resp)
            except (ValueError, OSError) as exc:
                raise SourceError(f"{self.description}{path}: unreadable answer ({exc})") from None

    def current(self) -> Published | None:
        try:
            data = self._json("/replication/current")
        except GenerationGone:
            # The routes answer 404 only when the publisher has no index yet, or when
            # replication is off (no token set there): say which it could be.
            raise SourceError(
                f"{self.description}/replication/current: 404 (replication off at the "
                "publisher: PRESSE_REPLICATION_TOKEN unset there? or no index yet)"
            ) from None
        return _published(data, self.description)

    def generation(self, gen_id: str) -> Published:
        return _published(self._json(f"/replication/generations/{gen_id}"), self.description)

    def open(self, gen_id: str, name: str, offset: int, length: int) -> tuple[BinaryIO, int]:
        headers = {"Range": f"bytes={offset}-{offset + max(length, 1) - 1}"}
        resp = self._request(f"/replication/generations/{gen_id}/files/{name}", headers)
        return resp, offset if resp.status == 206 else 0

    def ack(self, ack: replicas.Ack) -> None:
        body = json.dumps(ack.to_dict()).encode("utf-8")
        try:
            self._request("/replication/acks", {"Content-Type": "application/json"}, body).close()
        except SourceError as exc:
            log.warning("ack to %s failed: %s", self.description, exc)


class DirectorySource:
    """Another index root, read as files."""

    def __init__(self, path: Path) -> None:
        self.root = IndexRoot(Path(path))
        self.description = str(path)
        self._ack_warned = False

    def _describe(self, gen_id: str) -> Published:
        generation = self.root.get(gen_id)
        if generation is None:
            raise GenerationGone(f"{self.description}: generation {gen_id} is not there (pruned)")
        try:
            described = manifest.read(generation.path)
        except manifest.CorruptGeneration as exc:
            raise SourceError(f"{self.description}: {exc}") from None
        ready = tuple(g.id for g in self.root.ready_generations())
        return Published(gen_id, generation.meta, described, ready)

    def current(self) -> Published | None:
        if not self.root.path.is_dir():
            raise SourceError(f"{self.description}: no such folder")
        gen_id = self.root.current_id()
        return None if gen_id is None else self._describe(gen_id)

    def generation(self, gen_id: str) -> Published:
        return self._describe(gen_id)

    def open(self, gen_id: str, name: str, offset: int, length: int) -> tuple[BinaryIO, int]:
        try:
            handle = open(self.root.generations_dir / gen_id / name, "rb")  # noqa: SIM115
        except FileNotFoundError:
            raise GenerationGone(f"{self.description}: {gen_id}/{name} is gone (pruned)") from None
        except OSError as exc:
            raise SourceError(f"{self.description}: {gen_id}/{name}: {exc.strerror}") from None
        handle.seek(offset)
        return handle, offset

    def ack(self, ack: replicas.Ack) -> None:
        try:
            replicas.record(self.root.path, ack)
        except OSError as exc:
            if not self._ack_warned:
                self._ack_warned = True
                log.warning(
                    "cannot write acks into %s (%s): its reindex will not know what this "
                    "replica copies (retention falls back to PRESSE_KEEP_GENERATIONS)",
                    self.description,
                    exc.strerror or exc,
                )


def open_source(spec: str, token: str | None) -> Source:
    """An ``HttpSource`` for an http(s) URL, else a ``DirectorySource`` for a path."""
    if spec.startswith(("http://", "https://")):
        return HttpSource(spec, token)
    return DirectorySource(Path(spec))
