"""The dashboard's parts without a server: the Timestream SQL and its response shape (a stub
client), the emulator's upsert semantics, the snapshot's rules, the frame, the screen."""

from __future__ import annotations

import io
import json

import pytest
from botocore.exceptions import ClientError

from cli import commands
from connectors.settings import ConfigError, TimestreamSettings
from jobs.config import PROJECT_ROOT, Config
from cli.landed import LandedRecord
from cli.prerequisites import free_ports
from jobs.schema import written_tables
from cli.top.emulator import EmulatorStore
from cli.top.live import (EMULATOR_REFRESH_S, PLAIN_WIDTH, TIMESTREAM_REFRESH_S, Screen,
                           default_refresh, open_store, read_queue_names)
from cli.top.render import ALL_QUEUES, render
from cli.top.snapshot import QUEUE_NOW, READS, STALE_SAMPLE_MS, build, load
from cli.top.store import Row, StoreError
from cli.top.timestream import TimestreamStore, latest_sql

NOW = 1_795_488_000_000  # 2026-11-24T02:40:00Z


def test_every_read_names_dimensions_and_measures_the_sink_writes():
    tables = written_tables(PROJECT_ROOT / "sql")
    for read in READS:
        written = tables[read.table]
        assert read.measure_name == written.measure_name
        assert set(read.keys) <= set(written.dimensions), read.table
        assert set(read.measures) <= set(written.measures), read.table


def test_the_timestream_query_takes_each_series_newest_record_within_the_lookback():
    assert latest_sql("connect_metrics", QUEUE_NOW) == (
        "SELECT instance_id, queue_id, channel, max(time) AS newest_time,\n"
        "       max_by(contacts_in_queue, time) AS contacts_in_queue,\n"
        "       max_by(oldest_contact_age, time) AS oldest_contact_age,\n"
        "       max_by(agents_available, time) AS agents_available,\n"
        "       max_by(agents_staffed, time) AS agents_staffed\n"
        'FROM "connect_metrics"."queue_realtime"\n'
        "WHERE measure_name = 'queue_realtime' AND time > ago(5m)\n"
        "GROUP BY instance_id, queue_id, channel"
    )
    assert 'FROM "my""db"' in latest_sql('my"db', QUEUE_NOW)
    assert {r.table: latest_sql("db", r).split("ago(")[1].split(")")[0] for r in READS} == {
        "queue_realtime": "5m", "queue_today": "2d", "queue_service_level_today": "2d",
        "routing_profile_realtime": "5m", "agent_realtime": "1d", "queue_names": "3660d",
        "routing_profile_names": "3660d"}


def _column(name: str, kind: str) -> dict:
    return {"Name": name, "Type": {"ScalarType": kind}}


QUEUE_NOW_COLUMNS = [
    _column("instance_id", "VARCHAR"), _column("queue_id", "VARCHAR"),
    _column("channel", "VARCHAR"), _column("newest_time", "TIMESTAMP"),
    _column("contacts_in_queue", "BIGINT"), _column("oldest_contact_age", "DOUBLE"),
    _column("agents_available", "BIGINT"), _column("agents_staffed", "BIGINT"),
]


def _data(*values) -> dict:
    return {"Data": [{"NullValue": True} if v is None else {"ScalarValue": v} for v in values]}


class StubClient:
    """timestream-query's `query`: pages of `ColumnInfo` and `Rows`, linked by `NextToken`."""

    def __init__(self, pages_by_table: dict[str, list[dict]]):
        self.pages_by_table = pages_by_table
        self.calls: list[dict] = []

    def query(self, **kwargs):
        self.calls.append(kwargs)
        table = kwargs["QueryString"].split('"."')[1].split('"')[0]
        pages = self.pages_by_table.get(table, [{"ColumnInfo": [], "Rows": []}])
        index = int(kwargs.get("NextToken", 0))
        page = dict(pages[index], QueryId="q")
        if index + 1 < len(pages):
            page["NextToken"] = str(index + 1)
        return page


def test_timestream_rows_follow_next_tokens_and_convert_types_and_nulls():
    client = StubClient({"queue_realtime": [
        {"ColumnInfo": QUEUE_NOW_COLUMNS, "Rows": []},  # Timestream may page before any row
        {"ColumnInfo": QUEUE_NOW_COLUMNS, "Rows": [
            _data("i", "q1", "VOICE", "2026-11-24 02:39:55.000000000", "3", "41.5", "2", None),
        ]},
        {"ColumnInfo": QUEUE_NOW_COLUMNS, "Rows": [
            _data("i", "q2", None, "2026-11-24 02:39:50.123456789", "0", "0.0", "4", "6"),
        ]},
    ]})
    rows = TimestreamStore(client, "connect_metrics", "eu-west-1").latest([QUEUE_NOW], NOW)
    assert rows == {"queue_realtime": [
        Row({"instance_id": "i", "queue_id": "q1", "channel": "VOICE"}, NOW - 5_000,
            {"contacts_in_queue": 3, "oldest_contact_age": 41.5, "agents_available": 2}),
        Row({"instance_id": "i", "queue_id": "q2"}, NOW - 9_877,
            {"contacts_in_queue": 0, "oldest_contact_age": 0.0, "agents_available": 4,
             "agents_staffed": 6}),
    ]}
    assert [c.get("NextToken") for c in client.calls] == [None, "1", "2"]


def test_a_failing_timestream_query_names_the_table_and_what_to_check():
    class Refusing:
        def query(self, **kwargs):
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}},
                              "Query")

    with pytest.raises(StoreError) as err:
        TimestreamStore(Refusing(), "connect_metrics", "eu-west-1").latest(READS, NOW)
    assert "connect_metrics.queue_realtime" in str(err.value)
    assert "credentials, --region and --database" in str(err.value)


def landed(table: str, dims: dict, at: int, measures: dict, version: int = 1) -> LandedRecord:
    kinds = {bool: "BOOLEAN", int: "BIGINT", float: "DOUBLE", str: "VARCHAR"}
    return LandedRecord("connect_metrics", table, {
        "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
        "MeasureName": table, "MeasureValueType": "MULTI",
        "MeasureValues": [{"Name": k, "Value": str(v).lower() if isinstance(v, bool) else str(v),
                           "Type": kinds[type(v)]} for k, v in measures.items()],
        "Time": str(at), "TimeUnit": "MILLISECONDS", "Version": version,
    })


def test_both_stores_give_the_same_snapshot_for_the_same_records():
    dims = {"instance_id": "i", "queue_id": "q1", "channel": "VOICE"}
    records = [
        landed("queue_realtime", dims, NOW - 10_000, {"contacts_in_queue": 1}),
        landed("queue_realtime", dims, NOW - 5_000, {"contacts_in_queue": 5,
                                                     "oldest_contact_age": 7.5}, version=2),
        landed("queue_realtime", dims, NOW - 5_000, {"contacts_in_queue": 9}, version=1),
        landed("queue_realtime", {**dims, "queue_id": "q-old"}, NOW - 400_000,
               {"contacts_in_queue": 8}),  # beyond the 5 minutes looked back
        landed("agent_realtime", {"instance_id": "i", "agent_id": "a", "agent_username": "ana"},
               NOW - 3_000, {"activity": "ACW", "online": True}),
    ]
    emulator = load(EmulatorStore("http://emulator", "connect_metrics",
                                  fetch=lambda endpoint, database: records), NOW)
    client = StubClient({
        "queue_realtime": [{"ColumnInfo": QUEUE_NOW_COLUMNS, "Rows": [
            _data("i", "q1", "VOICE", "2026-11-24 02:39:55.000000000", "5", "7.5", None, None)]}],
        "agent_realtime": [{"ColumnInfo": [
            _column("instance_id", "VARCHAR"), _column("agent_id", "VARCHAR"),
            _column("agent_username", "VARCHAR"), _column("newest_time", "TIMESTAMP"),
            _column("activity", "VARCHAR"), _column("status_name", "VARCHAR"),
            _column("routing_profile_name", "VARCHAR"), _column("online", "BOOLEAN")],
            "Rows": [_data("i", "a", "ana", "2026-11-24 02:39:57.000000000", "ACW", None, None,
                           "true")]}],
    })
    timestream = load(TimestreamStore(client, "connect_metrics", "us-east-1"), NOW)
    assert emulator.queues == timestream.queues and emulator.agents == timestream.agents
    assert emulator.queues[0].in_queue == 5 and emulator.queues[0].oldest == 7.5
    assert emulator.agents[0].activity == "ACW"


def test_an_unreachable_emulator_names_how_to_start_it():
    (port,) = free_ports(1)
    with pytest.raises(StoreError) as err:
        EmulatorStore(f"http://127.0.0.1:{port}", "connect_metrics").latest(READS, NOW)
    assert f"127.0.0.1:{port}" in str(err.value) and "connect-metrics dev up" in str(err.value)


def _queue_rows(queue_id: str, at: int, in_queue: int) -> Row:
    return Row({"instance_id": "i", "queue_id": queue_id, "channel": "VOICE"}, at,
               {"contacts_in_queue": in_queue, "oldest_contact_age": 1.0})


def test_the_snapshot_lists_standard_queues_still_sampled_and_todays_totals_only():
    day = {"instance_id": "i", "queue_id": "q1", "channel": "VOICE"}
    snapshot = build("test", {
        "queue_realtime": [_queue_rows("q1", NOW - 5_000, 2),
                           _queue_rows("agent/a1", NOW - 5_000, 1),
                           _queue_rows("q-gone", NOW - 5_001 - STALE_SAMPLE_MS, 3)],
        "queue_today": [
            Row({**day, "local_date": "2026-11-23"}, NOW - 86_400_000, {"contacts_queued": 99}),
            Row({**day, "queue_id": "q-old", "local_date": "2026-11-23"}, NOW - 86_400_000,
                {"contacts_queued": 7}),
            Row({**day, "local_date": "2026-11-24"}, NOW - 60_000, {"contacts_queued": 4}),
        ],
    }, NOW, {"q1": "Sales"})
    assert [(q.name, q.in_queue, q.today) for q in snapshot.queues] == [
        ("Sales", 2, {"contacts_queued": 4})]
    assert snapshot.local_date == "2026-11-24" and snapshot.sampled_ms == NOW - 5_000


def test_a_queue_row_written_a_while_ago_holds_and_its_oldest_contact_has_waited_on():
    snapshot = build("test", {"queue_realtime": [
        _queue_rows("q-busy", NOW - 50_000, 2),  # unchanged since: the same contacts wait
        _queue_rows("q-empty", NOW - 50_000, 0),
        _queue_rows("q-new", NOW - 5_000, 1),
    ]}, NOW, {})
    oldest = {q.queue_id: q.oldest for q in snapshot.queues}
    assert oldest == {"q-busy": 46.0, "q-empty": 1.0, "q-new": 1.0}


def test_the_all_queues_line_recomputes_rates_from_the_additive_parts():
    def today(handled, removed, answer_s, completed, handle_s):
        return {"contacts_queued": removed, "contacts_handled": handled,
                "contacts_abandoned": removed - handled, "sum_queue_answer_time": answer_s,
                "contacts_completed": completed, "sum_handle_time": handle_s,
                "avg_queue_answer_time": answer_s / handled,
                "avg_handle_time": handle_s / completed}

    def level(queue_id, seconds, removed, within):
        return Row({"queue_id": queue_id, "channel": "VOICE", "threshold_s": str(seconds),
                    "local_date": "d"}, NOW,
                   {"contacts_removed": removed, "contacts_removed_within": within,
                    "service_level": 100 * within / removed})

    rows = {"queue_today": [
        Row({"queue_id": "q1", "channel": "VOICE", "local_date": "d"}, NOW,
            today(9, 10, 90.0, 9, 900.0)),
        Row({"queue_id": "q2", "channel": "VOICE", "local_date": "d"}, NOW,
            today(1, 90, 100.0, 1, 100.0)),
    ], "queue_service_level_today": [
        level("q1", 20, 10, 9), level("q2", 20, 90, 0), level("q2", 120, 90, 45),
    ]}
    frame = render(build("test", rows, NOW, {}), 120)
    lines = frame.splitlines()
    total = next(line for line in lines if line.startswith(ALL_QUEUES)).split()
    # 9 of 100 removed within 20 s (the mean of 90% and 0% would say 45%), 120 s only in q2;
    # 190 s over 10 answered
    assert total[-4:] == ["9.0%/20s", "50.0%/120s", "19.0s", "100.0s"]
    assert total[2:4] == ["-", "-"]  # no gauges sampled: nothing in queue is unknown, not 0
    q2 = next(line for line in lines if line.startswith("q2")).split()
    assert q2[-4:-2] == ["0.0%/20s", "50.0%/120s"]  # each of the queue's own thresholds


def test_names_come_from_the_names_tables_and_a_given_map_overrides_them():
    def named(table, key, value, at, name_column, name):
        return Row({"instance_id": "i", key: value}, at, {name_column: name})

    def gauge(queue_id):
        return Row({"instance_id": "i", "queue_id": queue_id, "channel": "VOICE"}, NOW,
                   {"contacts_in_queue": 0})

    unnamed = "0123456789abcdef"
    rows = {
        "queue_realtime": [gauge("q1"), gauge("q2"), gauge(unnamed)],
        "queue_names": [named("queue_names", "queue_id", "q1", NOW - 10, "queue_name", "Sales"),
                        named("queue_names", "queue_id", "q2", NOW, "queue_name", "Support")],
        "routing_profile_realtime": [
            Row({"instance_id": "i", "routing_profile_id": "rp1"}, NOW, {"agents_online": 2}),
            Row({"instance_id": "i", "routing_profile_id": "rp2"}, NOW, {"agents_online": 1})],
        "routing_profile_names": [named("routing_profile_names", "routing_profile_id", "rp1",
                                        NOW, "routing_profile_name", "Generalists")],
    }
    snapshot = build("test", rows, NOW, {"q2": "Support (map)"})
    assert sorted(q.name for q in snapshot.queues) == ["01234567…", "Sales", "Support (map)"]
    assert [p.name for p in snapshot.profiles] == ["Generalists", "rp2"]


def test_a_plain_frame_holds_a_busy_day_with_three_thresholds():
    def level(queue_id, seconds):
        return Row({"instance_id": "i", "queue_id": queue_id, "channel": "VOICE",
                    "threshold_s": str(seconds), "local_date": "d"}, NOW,
                   {"contacts_removed": 1000, "contacts_removed_within": 999,
                    "service_level": 99.9})

    rows = {
        "queue_realtime": [Row({"instance_id": "i", "queue_id": q, "channel": "VOICE"}, NOW,
                               {"contacts_in_queue": 99, "oldest_contact_age": 999.5,
                                "agents_available": 99}) for q in ("q1", "q2")],
        "queue_today": [Row({"instance_id": "i", "queue_id": q, "channel": "VOICE",
                             "local_date": "d"}, NOW,
                            {"contacts_queued": 4999, "contacts_handled": 4999,
                             "contacts_abandoned": 4999, "avg_queue_answer_time": 999.5,
                             "sum_queue_answer_time": 4999 * 999.5,
                             "sum_handle_time": 4999 * 999.5, "contacts_completed": 4999,
                             "avg_handle_time": 999.5}) for q in ("q1", "q2")],
        "queue_service_level_today": [level("q1", 20), level("q1", 60), level("q2", 120)],
        "queue_names": [Row({"instance_id": "i", "queue_id": q}, NOW,
                            {"queue_name": "Customer Service"}) for q in ("q1", "q2")],
    }
    lines = render(build("test", rows, NOW, {}), PLAIN_WIDTH).splitlines()
    total = next(line for line in lines if line.startswith(ALL_QUEUES))
    assert total.endswith(" 999.5s")  # nothing cut: the last column is there
    assert max(len(line) for line in lines) <= PLAIN_WIDTH


def test_a_frame_fits_the_width_and_says_what_it_waits_for():
    frame = render(build("Timestream emulator http://x", {}, NOW, {}), 40)
    assert all(len(line) <= 40 for line in frame.splitlines())
    assert "waiting for the first metric rows" in render(build("s", {}, NOW, {}), 200)


def test_on_a_terminal_each_frame_redraws_the_screen_in_place():
    out = io.StringIO()
    with Screen(out, width=80, redraw=True) as screen:
        screen.draw("one\ntwo\n")
    text = out.getvalue()
    assert text.startswith("\x1b[?25l\x1b[H\x1b[2J")  # hide the cursor, home, clear
    assert "\x1b[Hone\x1b[K\ntwo\x1b[K\n\x1b[J" in text  # each line cleared to its end
    assert text.endswith("\x1b[?25h")  # the cursor back
    plain = io.StringIO()
    with Screen(plain, width=80, redraw=False) as screen:
        screen.draw("one\n")
    assert plain.getvalue() == "one\n\n"


def test_queue_names_are_read_by_id_or_arn(tmp_path):
    path = tmp_path / "queues.json"
    path.write_text(json.dumps({"arn:aws:connect:eu-west-1:1:instance/i/queue/q1": "Sales",
                                "q2": "Support",
                                "arn:aws:connect:eu-west-1:1:instance/i/queue/agent/a": "Ana"}))
    assert read_queue_names(path) == {"q1": "Sales", "q2": "Support", "agent/a": "Ana"}
    path.write_text('["Sales"]')
    with pytest.raises(ConfigError, match="expected a JSON object of queue id or queue ARN"):
        read_queue_names(path)
    with pytest.raises(ConfigError, match="no such file"):
        read_queue_names(tmp_path / "absent.json")


def test_top_once_against_no_emulator_prints_the_error_and_exits_1(tmp_path, capsys):
    (port,) = free_ports(1)
    properties = tmp_path / "application_properties.json"
    properties.write_text(json.dumps([{"PropertyGroupId": "Timestream",
                                       "PropertyMap": {"endpoint": f"http://127.0.0.1:{port}"}}]))
    assert commands.main(["top", "--config", str(properties), "--once"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("connect-metrics top") and "connect-metrics dev up" in out


def test_top_reads_amazon_timestream_when_asked_or_when_no_endpoint_is_configured(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    local = Config()
    assert isinstance(open_store(local), EmulatorStore)
    assert default_refresh(open_store(local)) == EMULATOR_REFRESH_S
    aws = open_store(local, timestream=True, region="eu-west-1", database="cc")
    assert isinstance(aws, TimestreamStore) and aws.database == "cc"
    assert aws.client.meta.region_name == "eu-west-1"
    assert default_refresh(aws) == TIMESTREAM_REFRESH_S
    no_endpoint = Config(timestream=TimestreamSettings(endpoint="", region="ap-southeast-2"))
    assert open_store(no_endpoint).client.meta.region_name == "ap-southeast-2"
