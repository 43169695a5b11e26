"""Slow clients and a normal reader, to measure what the first do to the second.

``SlowClients`` holds ``count`` connections that each send one byte of a request header per
``interval`` seconds (the attack that took five sync workers down: each held a worker ~33 s);
``reader(base, paths, seconds)`` is a normal reader, who sends one search at a time and times
each answer. Both use plain sockets and ``http.client``, from threads of the calling process.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from bench.common import percentile

# A request whose header never ends: nginx (or a gunicorn worker) waits for the blank line.
_SLOW_REQUEST = b"GET /search?q=maroc HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 4096


class SlowClients:
    """``count`` connections to ``host:port``, each sending one header byte per ``interval`` s."""

    def __init__(self, host: str, port: int, count: int, interval: float = 1.0) -> None:
        self.address = (host, port)
        self.count = count
        self.interval = interval
        self.sockets: list[socket.socket] = []
        self.open = 0  # connections still open after the last round of bytes
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        for _ in range(self.count):
            sock = socket.create_connection(self.address, timeout=5)
            sock.setblocking(False)
            self.sockets.append(sock)
        self._thread.start()

    def _run(self) -> None:
        offset = 0
        while not self._stop.is_set():
            byte = _SLOW_REQUEST[offset % len(_SLOW_REQUEST) :][:1]
            alive = 0
            for sock in self.sockets:
                try:
                    sock.send(byte)
                    alive += 1
                except OSError:  # closed by the server (timeout) or buffer full
                    pass
            self.open = alive
            offset += 1
            self._stop.wait(self.interval)

    def stop(self) -> int:
        """Close every connection; returns how many were still open at the last round."""
        self._stop.set()
        self._thread.join(timeout=5)
        for sock in self.sockets:
            sock.close()
        return self.open


@dataclass(frozen=True)
class Answer:
    status: int  # 0: no answer (refused, reset, timed out)
    seconds: float


def reader(
    base: str, paths: list[str], seconds: float, pause: float = 0.1, timeout: float = 30.0
) -> list[Answer]:
    """One reader of ``base`` (a loopback URL) for ``seconds``: a search at a time over ``paths``
    (cycled), ``pause`` s apart.

    A new connection per request, as a reader's browser behind a pool of others would look.
    """
    port = urlsplit(base).port or 80
    answers: list[Answer] = []
    deadline = time.monotonic() + seconds
    index = 0
    while time.monotonic() < deadline:
        answers.append(timed_get(port, paths[index % len(paths)], timeout))
        index += 1
        time.sleep(pause)
    return answers


def timed_get(port: int, path: str, timeout: float) -> Answer:
    """One GET to ``127.0.0.1:port`` on a new connection, timed to the end of its body."""
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        status = response.status
    except OSError:
        status = 0
    finally:
        conn.close()
    return Answer(status, time.monotonic() - started)


def p95_ms(answers: list[Answer]) -> float:
    """The 95th percentile of the answers' times, in ms."""
    return percentile(sorted(a.seconds for a in answers), 95) * 1000
