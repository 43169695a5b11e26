"""Search analytics (issue 12): the recorder, the file, the reports — on real SQLite files.

- events queued by ``Recorder`` are written in batches by its thread; a full queue drops and
  counts, never waits;
- a locked, corrupt or removed file turns analytics off with a warning, and the API still
  answers searches (``test_*_while_*``);
- retention purges old rows once a day;
- the reports (summary, series by day and ISO week, top / no-result / no-click queries,
  popular) count what they say, and a hostile query comes out as text;
- ``scripts/analytics`` prints tables, CSV (formulas neutralised) and JSON.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from conftest import MakeClient

from search import analytics, reports
from search.analytics import ClickEvent, Recorder, SearchEvent, purge, search_event
from search.cli_reports import main as analytics_main
from search.config import Settings
from search.newsroom import Newsroom
from search.normalize import display_form, query_key
from search.storage import connect

HOSTILE = "<script>alert('x')</script>\x00\x1b[31m\u202e" + "é" * 480


def at(day: str, hour: int = 12) -> float:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00+00:00").timestamp()


def search(query_id: str, query: str, day: str, total: int = 5, corrected: bool = False,
           hour: int = 12) -> SearchEvent:
    answer = {"total": total, "took_ms": 3.5, "corrected_query": "x" if corrected else None}
    return search_event(query_id.ljust(32, "0"), query, {"section": ["Économie"]}, 1, answer,
                        at=at(day, hour))


def click(query_id: str, position: int, day: str) -> ClickEvent:
    return ClickEvent(at(day), query_id.ljust(32, "0"), "article-1", position)


def write(path: Path, events: list[SearchEvent | ClickEvent]) -> None:
    conn = connect(path)
    try:
        analytics.write_events(conn, events)
    finally:
        conn.close()


def rows(path: Path, table: str) -> int:
    with sqlite3.connect(path) as conn:
        count = int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
    conn.close()
    return count


# --- normalisation ---------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "shown", "key"), [
    ("  Élections   LÉGISLATIVES ", "élections législatives", "elections legislatives"),
    ("législatives élections", "législatives élections", "elections legislatives"),
    ("taux\x00directeur\u200b", "taux directeur", "directeur taux"),
    ("L’Œuvre", "l’œuvre", "l oeuvre"),
])
def test_queries_are_normalised_for_reports_and_pins(typed: str, shown: str, key: str) -> None:
    assert display_form(typed) == shown
    assert query_key(typed) == key


def test_a_hostile_query_is_recorded_as_plain_text() -> None:
    event = search("a", HOSTILE, "2026-11-20")
    assert "\x00" not in event.query and "\x1b" not in event.query and "\u202e" not in event.query
    assert event.query.startswith("<script>alert('x')</script>")  # kept as text: escaped when shown
    assert len(event.query) <= 500


# --- the recorder ----------------------------------------------------------------------------


def test_the_recorder_writes_events_from_its_thread(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path / "a.sqlite3", queue_size=100, retention_days=90)
    try:
        for n in range(30):
            recorder.record(search(f"{n:02d}", "inflation", "2026-11-20"))
        recorder.record(click("00", 2, "2026-11-20"))
        assert recorder.flush()
    finally:
        recorder.close()
    assert rows(tmp_path / "a.sqlite3", "searches") == 30
    assert rows(tmp_path / "a.sqlite3", "clicks") == 1
    assert recorder.stats.written == 31 and recorder.stats.dropped == 0
    with sqlite3.connect(tmp_path / "a.sqlite3") as conn:
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    conn.close()
    assert mode == "wal"


def test_a_full_queue_drops_and_counts_instead_of_waiting(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.executescript("PRAGMA journal_mode = WAL; CREATE TABLE x (y); BEGIN EXCLUSIVE;")
    recorder = Recorder(path, queue_size=5, retention_days=90)
    try:
        started = time.monotonic()
        for n in range(200):
            recorder.record(search(f"{n:03d}", "maroc", "2026-11-20"))
        assert time.monotonic() - started < 0.5  # never waited for the locked file
        assert recorder.stats.dropped >= 190
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        recorder.close()


def test_a_locked_file_turns_analytics_off_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "a.sqlite3"
    write(path, [])
    monkeypatch.setattr("search.storage.WRITER_BUSY_MS", 200)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    recorder = Recorder(path, queue_size=100, retention_days=90)
    try:
        with caplog.at_level(logging.WARNING, logger="presse.search.analytics"):
            recorder.record(search("01", "maroc", "2026-11-20"))
            assert recorder.flush()
        assert not recorder.enabled
        assert recorder.stats.dropped == 1 and recorder.stats.failures == 1
        assert "analytics off" in caplog.text
        recorder.record(search("02", "maroc", "2026-11-20"))  # off: dropped at once
        assert recorder.stats.dropped == 2
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        recorder.close()


def test_a_corrupt_file_turns_analytics_off(tmp_path: Path,
                                             caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "a.sqlite3"
    path.write_bytes(b"this is not a database at all" * 200)
    recorder = Recorder(path, queue_size=100, retention_days=90)
    try:
        with caplog.at_level(logging.WARNING, logger="presse.search.analytics"):
            recorder.record(search("01", "maroc", "2026-11-20"))
            assert recorder.flush()
        assert not recorder.enabled and "unusable" in caplog.text
    finally:
        recorder.close()
    assert path.read_bytes().startswith(b"this is not a database")  # left for a person to see


def test_a_removed_file_is_created_again(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    recorder = Recorder(path, queue_size=100, retention_days=90)
    try:
        recorder.record(search("01", "maroc", "2026-11-20"))
        assert recorder.flush()
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        recorder.record(search("02", "maroc", "2026-11-20"))
        assert recorder.flush()
    finally:
        recorder.close()
    assert rows(path, "searches") == 1  # the new file holds what came after


def test_old_rows_are_purged_once_a_day(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    write(path, [search("old", "maroc", "2026-06-01"), search("new", "maroc", "2026-11-20"),
                 click("old", 1, "2026-06-01"), click("new", 1, "2026-11-20")])
    conn = connect(path)
    try:
        now = at("2026-11-25")
        assert purge(conn, 90, now) == 2
        write(path, [search("old2", "maroc", "2026-06-02")])
        assert purge(conn, 90, now + 3600) == 0  # purged less than a day ago
        assert purge(conn, 90, now + 86_400) == 1
    finally:
        conn.close()
    assert rows(path, "searches") == 1 and rows(path, "clicks") == 1


# --- reports ---------------------------------------------------------------------------------


@pytest.fixture
def recorded(tmp_path: Path) -> Path:
    """A week of made-up searches and clicks."""
    path = tmp_path / "a.sqlite3"
    events: list[SearchEvent | ClickEvent] = []
    for n in range(6):
        events.append(search(f"i{n}", "Inflation" if n % 2 else "inflation", "2026-11-23"))
    events += [click("i0", 1, "2026-11-23"), click("i1", 3, "2026-11-23"),
               click("i1", 2, "2026-11-23")]
    events += [search(f"z{n}", "zzkrt", "2026-11-24", total=0) for n in range(3)]
    events += [search(f"c{n}", "tourisme", "2026-11-30", corrected=True) for n in range(2)]
    events.append(search("h", HOSTILE, "2026-11-30"))
    events.append(search("out", "inflation", "2026-12-05"))  # after the period
    events.append(click("forged", 1, "2026-11-23"))  # no such search: counts for nothing
    write(path, events)
    return path


def test_the_summary_counts_what_it_says(recorded: Path) -> None:
    conn = connect(recorded)
    try:
        summary = reports.summary(conn, reports.period(date(2026, 11, 23), date(2026, 11, 30)))
    finally:
        conn.close()
    assert summary["searches"] == 12
    assert summary["clicks"] == 3
    assert summary["ctr"] == round(2 / 12, 4)  # two searches got clicks
    assert summary["mean_click_position"] == 2.0  # (1 + 3 + 2) / 3
    assert summary["corrected_share"] == round(2 / 12, 4)
    assert summary["no_result_share"] == round(3 / 12, 4)


def test_query_lists(recorded: Path) -> None:
    span = reports.period(date(2026, 11, 23), date(2026, 11, 30))
    conn = connect(recorded)
    try:
        data = reports.report(conn, span, by="week")
    finally:
        conn.close()
    top = data["top_queries"]
    assert top[0] == {"query": "inflation", "searches": 6, "mean_total": 5.0, "ctr": 0.3333}
    assert [q["query"] for q in data["no_result_queries"]] == ["zzkrt"]
    no_clicks = [q["query"] for q in data["no_click_queries"]]
    assert "tourisme" in no_clicks and "inflation" not in no_clicks and "zzkrt" not in no_clicks
    # 2026-11-30 is the Monday of ISO week 49.
    assert [(s["week"], s["searches"]) for s in data["series"]] == [("2026-W48", 9),
                                                                    ("2026-W49", 3)]
    assert any(q["query"].startswith("<script>") for q in top)  # as text, in JSON


def test_popular_needs_a_minimum_count_results_and_clicks(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    now = time.time()
    day = datetime.fromtimestamp(now, UTC).date().isoformat()
    events: list[SearchEvent | ClickEvent] = []
    for n in range(5):
        events.append(search(f"p{n}", "coupe du monde", day, hour=0))
        events.append(search(f"r{n}", "rare mais sans clic", day, hour=0))
    events.append(click("p0", 1, day))
    events += [search("secret", "mon voisin m. untel", day, hour=0), click("secret", 1, day)]
    write(path, events)
    conn = connect(path)
    try:
        assert reports.popular(conn, now=now + 60, min_count=5) == ["coupe du monde"]
        assert reports.popular(conn, now=now + 60, min_count=6) == []
    finally:
        conn.close()


# --- the command line -------------------------------------------------------------------------


def test_scripts_analytics_prints_tables_csv_and_json(recorded: Path) -> None:
    out = io.StringIO()
    period = ["--from", "2026-11-23", "--to", "2026-11-30"]
    assert analytics_main(["--db", str(recorded), *period], out=out) == 0
    text = out.getvalue()
    assert "Most frequent queries" in text and "inflation" in text
    assert "\x1b" not in text and "\x00" not in text
    out = io.StringIO()
    assert analytics_main(["--db", str(recorded), *period, "--csv", "top"], out=out) == 0
    table = list(csv.reader(io.StringIO(out.getvalue())))
    assert table[0] == ["query", "searches", "mean_total", "ctr"]
    assert ["inflation", "6", "5.0", "0.3333"] in table
    out = io.StringIO()
    assert analytics_main(["--db", str(recorded), *period, "--json"], out=out) == 0
    assert json.loads(out.getvalue())["summary"]["searches"] == 12


def test_csv_cells_cannot_run_as_formulas(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    write(path, [search("f", "=HYPERLINK(\"http://x\")", "2026-11-23")])
    out = io.StringIO()
    assert analytics_main(["--db", str(path), "--from", "2026-11-23", "--to", "2026-11-23",
                           "--csv", "top"], out=out) == 0
    assert "'=hyperlink" in out.getvalue()


def test_scripts_analytics_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        analytics_main(["--db", str(tmp_path / "a"), "nonsense"])
    assert exit_.value.code == 2
    assert analytics_main(["--db", str(tmp_path / "missing.sqlite3")]) == 1
    assert "no analytics file" in capsys.readouterr().err


# --- searches never depend on analytics -------------------------------------------------------


def _settings(sample_index: Path, db: Path) -> Settings:
    return Settings(index_dir=sample_index, analytics_db=db, refresh_interval_s=0)


LOCKER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA locking_mode = EXCLUSIVE")
conn.execute("BEGIN EXCLUSIVE")
conn.execute("INSERT INTO meta VALUES ('lock', 'held')")
print("locked", flush=True)
time.sleep(60)
"""


def test_searches_answer_while_another_process_locks_the_file(
    tmp_path: Path, sample_index: Path, make_client: MakeClient
) -> None:
    db = tmp_path / "a.sqlite3"
    write(db, [])
    settings = _settings(sample_index, db)
    newsroom = Newsroom(settings)
    client = make_client(settings, newsroom=newsroom)
    locker = subprocess.Popen([sys.executable, "-c", LOCKER, str(db)], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert locker.stdout is not None and locker.stdout.readline().strip() == "locked"
        probe = sqlite3.connect(db, timeout=0)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            probe.execute("SELECT COUNT(*) FROM meta").fetchone()  # the lock is real
        probe.close()
        for query in ("inflation", "maroc", "port", "élections", "/popular"):
            started = time.monotonic()
            resp = (client.simulate_get("/popular") if query.startswith("/")
                    else client.simulate_get("/search", params={"q": query}))
            assert resp.status_code == 200, resp.text
            assert time.monotonic() - started < 1.0
    finally:
        locker.kill()
        locker.wait()
        if locker.stdout is not None:
            locker.stdout.close()


def test_searches_answer_when_the_file_is_removed_or_corrupt(
    tmp_path: Path, sample_index: Path, make_client: MakeClient
) -> None:
    db = tmp_path / "a.sqlite3"
    settings = _settings(sample_index, db)
    client = make_client(settings)
    assert client.simulate_get("/search", params={"q": "inflation"}).status_code == 200
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    assert client.simulate_get("/search", params={"q": "inflation"}).status_code == 200
    db.write_bytes(b"garbage" * 1000)
    for _ in range(3):
        assert client.simulate_get("/search", params={"q": "maroc"}).status_code == 200
        assert client.simulate_get("/popular").status_code == 200


def test_every_search_answered_is_recorded(
    tmp_path: Path, sample_index: Path, make_client: MakeClient
) -> None:
    db = tmp_path / "a.sqlite3"
    settings = _settings(sample_index, db)
    newsroom = Newsroom(settings)
    client = make_client(settings, newsroom=newsroom)
    answer = client.simulate_get("/search", params={"q": "  Taux   DIRECTEUR ", "section":
                                                   "Économie", "page": "1"}).json
    client.simulate_get("/search", params={"q": "zzkrtq"})
    client.simulate_head("/search", params={"q": "maroc"})  # a HEAD is not a search
    assert newsroom.recorder is not None and newsroom.recorder.flush()
    with sqlite3.connect(db) as conn:
        found = conn.execute("SELECT query_id, query, query_key, filters, page, total, "
                             "corrected FROM searches ORDER BY rowid").fetchall()
    conn.close()
    assert found[0] == (answer["query_id"], "taux directeur", "directeur taux",
                        '{"section": ["Économie"]}', 1, answer["total"], 0)
    assert found[1][1:] == ("zzkrtq", "zzkrtq", "{}", 1, 0, 0)
    assert len(found) == 2


def test_analytics_off_records_nothing(tmp_path: Path, sample_index: Path,
                                       make_client: MakeClient) -> None:
    db = tmp_path / "a.sqlite3"
    settings = Settings(index_dir=sample_index, analytics_db=db, analytics_enabled=False)
    client = make_client(settings)
    assert client.simulate_get("/search", params={"q": "maroc"}).status_code == 200
    assert not db.exists()

