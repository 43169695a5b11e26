"""The publisher's routes: replicas read generations from here (``docs/replication.md``).

They exist only when ``PRESSE_REPLICATION_TOKEN`` is set (otherwise every ``/replication``
path answers 404, like any unknown route), and every request must carry
``Authorization: Bearer <token>``, compared with ``hmac.compare_digest`` (401 otherwise).
Nothing is cached (``no-store``, the default of non-cacheable resources in ``search.app``)::

    GET  /replication/current                          {"generation", "meta", "manifest",
    GET  /replication/generations/{id}                  "generations": [ready ids, oldest first]}
    GET  /replication/generations/{id}/files/{name}    the bytes; Range: bytes=N- resumes (206)
    POST /replication/acks                             {"replica", "serving", "copying"} -> 204

A file is served only if the generation's manifest lists it: no other name (no ``..``, no
``READY``) reaches the file system. Files are streamed from an open file object, so gunicorn
sends them with ``sendfile`` and a worker never holds a segment in memory; a generation pruned
while a file is sent is still sent whole (the open file outlives its name).
"""

from __future__ import annotations

import hmac
import json
import os
from typing import IO, Any, ClassVar

import falcon

from index import replicas
from index.generations import Generation, IndexRoot
from search.errors import BadQuery, NoSuchItem, PayloadTooLarge, Unauthorized

MAX_ACK_BYTES = 4096  # an ack is under 200 bytes


class _Guarded:
    cacheable: ClassVar[bool] = False

    def __init__(self, root: IndexRoot, token: str) -> None:
        self.root = root
        self._token = token.encode("utf-8")

    def authorize(self, req: falcon.Request) -> None:
        scheme, _, given = (req.get_header("Authorization") or "").partition(" ")
        ok = hmac.compare_digest(given.strip().encode("utf-8"), self._token)
        if not ok or scheme.lower() != "bearer":
            raise Unauthorized(
                "send the replication token as: Authorization: Bearer <token>",
                headers={"WWW-Authenticate": 'Bearer realm="presse-search replication"'},
            )

    def generation(self, gen_id: str) -> Generation:
        generation = self.root.get(gen_id)
        if generation is None:
            raise NoSuchItem(f"no ready generation {gen_id!r} here (pruned, or never built)")
        return generation

    def describe(self, generation: Generation) -> dict[str, Any]:
        return {
            "generation": generation.id,
            "meta": generation.meta,
            "manifest": _manifest(generation),
            "generations": [g.id for g in self.root.ready_generations()],
        }


def _manifest(generation: Generation) -> Any:
    try:
        return json.loads((generation.path / "MANIFEST.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise NoSuchItem(f"generation {generation.id} has no readable manifest") from None


def _names(listed: Any) -> set[str]:
    """The file names a manifest lists (none when it is not one)."""
    try:
        return {listed["toc"]["name"]} | {
            f["name"] for segment in listed["segments"] for f in segment["files"]
        }
    except (KeyError, TypeError):
        return set()


class Current(_Guarded):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.authorize(req)
        gen_id = self.root.current_id()
        if gen_id is None:
            raise NoSuchItem("this publisher has no index yet")
        resp.media = self.describe(self.generation(gen_id))


class GenerationResource(_Guarded):
    def on_get(self, req: falcon.Request, resp: falcon.Response, gen_id: str) -> None:
        self.authorize(req)
        resp.media = self.describe(self.generation(gen_id))


class GenerationFile(_Guarded):
    def on_get(self, req: falcon.Request, resp: falcon.Response, gen_id: str, name: str) -> None:
        self.authorize(req)
        generation = self.generation(gen_id)
        if name not in _names(_manifest(generation)):
            raise NoSuchItem(f"generation {gen_id} has no file {name!r}")
        try:
            handle = open(generation.path / name, "rb")  # noqa: SIM115 (the response closes it)
        except OSError:
            raise NoSuchItem(f"generation {gen_id}: {name!r} is gone (pruned)") from None
        size = os.fstat(handle.fileno()).st_size
        start, end = 0, size - 1
        if req.range is not None:
            first, last = req.range
            if first < 0 or first >= max(size, 1) or (last != -1 and last < first):
                handle.close()
                resp.status = falcon.HTTP_416
                resp.set_header("Content-Range", f"bytes */{size}")
                resp.media = {
                    "error": {
                        "code": "range_not_satisfiable",
                        "message": f"the file has {size} bytes; send bytes=N-",
                    }
                }
                return
            start, end = first, size - 1 if last == -1 else min(last, size - 1)
            resp.status = falcon.HTTP_206
            resp.content_range = (start, end, size)
        handle.seek(start)
        resp.content_type = "application/octet-stream"
        resp.accept_ranges = "bytes"
        resp.content_length = end - start + 1
        resp.stream = _Slice(handle, end - start + 1)


class _Slice:
    """The ``length`` bytes of an open file from its position. ``fileno`` lets gunicorn use
    ``sendfile`` (from the current offset, for Content-Length bytes); ``read`` is the bound for
    servers that iterate instead."""

    def __init__(self, handle: IO[bytes], length: int) -> None:
        self.handle = handle
        self.left = length

    def read(self, size: int | None = -1, /) -> bytes:
        if self.left <= 0:
            return b""
        wanted = self.left if size is None or size < 0 else min(size, self.left)
        block = self.handle.read(wanted)
        self.left -= len(block)
        return block

    def fileno(self) -> int:
        return self.handle.fileno()

    def close(self) -> None:
        self.handle.close()


class Acks(_Guarded):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.authorize(req)
        if (req.content_length or 0) > MAX_ACK_BYTES:
            raise PayloadTooLarge(f"an ack is at most {MAX_ACK_BYTES} bytes", parameter="body")
        raw = req.bounded_stream.read(MAX_ACK_BYTES + 1)
        try:
            data = json.loads(raw)
        except ValueError:
            raise BadQuery("the body must be JSON", parameter="body") from None
        try:
            ack = replicas.parse_ack(data)
        except replicas.BadAck as exc:
            raise BadQuery(str(exc), parameter=exc.field) from None
        replicas.record(self.root.path, ack)
        resp.status = falcon.HTTP_204


def add_replication_routes(app: falcon.App[Any, Any], root: IndexRoot, token: str) -> None:
    app.add_route("/replication/current", Current(root, token))
    app.add_route("/replication/generations/{gen_id}", GenerationResource(root, token))
    app.add_route("/replication/generations/{gen_id}/files/{name}", GenerationFile(root, token))
    app.add_route("/replication/acks", Acks(root, token))
