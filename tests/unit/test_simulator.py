"""The simulated contact centre: Connect's record formats, behaviours, determinism, faults and
outputs (files, Kinesis, the command line)."""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import re
from collections import Counter, defaultdict
from datetime import datetime

import orjson
import pytest

from jobs.config import Config
from jobs.core.events import AgentEvent, ContactEvent, DeadLetter, parse_record
from simulator import cli
from simulator.centre import AGENT_FEED, CONTACT_FEED, HEARTBEAT_MS, Centre, Emitted
from simulator.faults import FaultSettings
from simulator.output import JsonLinesOutput, Progress
from simulator.publish import KinesisPublisher, publish_paced
from simulator.scenarios import every_feature
from simulator.settings import OFFICE_DAY, CentreSettings
from simulator.simulation import Simulation
from simulator.truth import TruthList, read_truth

START = 1_795_428_000_000  # on the hour
HOUR = 3_600_000
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
INSTANCE_ARN = re.compile(r"^arn:aws:connect:us-east-1:\d{12}:instance/(?P<id>[0-9a-f-]{36})$")
AGENT_KEYS = {"AWSAccountId", "AgentARN", "CurrentAgentSnapshot", "EventId", "EventTimestamp",
              "EventType", "InstanceARN", "PreviousAgentSnapshot", "Version"}
ENVELOPE_KEYS = {"version", "id", "detail-type", "source", "account", "time", "region",
                 "resources", "detail"}
FAULTS = FaultSettings(duplicates=0.05, reorder=0.05, reorder_ms=5_000, drop=0.01,
                       malformed=0.01, casing=0.05)


def ms(text: str) -> int:
    return round(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


@pytest.fixture(scope="module")
def busy():
    """An hour of a centre that shows every feature, no faults."""
    truth = TruthList()
    events = list(Simulation(every_feature(), seed=5, start_ms=START, truth=truth).events(HOUR))
    return events, truth


@pytest.fixture(scope="module")
def faulty():
    truth = TruthList()
    simulation = Simulation(every_feature(), seed=5, start_ms=START, faults=FAULTS, truth=truth)
    return list(simulation.events(HOUR)), truth


def event_type(event: Emitted) -> str:
    return event.record["EventType"] if event.feed == AGENT_FEED else event.record["detail"][
        "eventType"]


def event_id(record: dict) -> str:
    return record["EventId"] if "AgentARN" in record else record["id"]


# --- formats ----------------------------------------------------------------------------------


def test_both_feeds_show_every_event_type_state_and_initiation_method(busy):
    events, _ = busy
    agent = [e.record for e in events if e.feed == AGENT_FEED]
    contact = [e.record["detail"] for e in events if e.feed == CONTACT_FEED]
    assert {r["EventType"] for r in agent} == {"LOGIN", "LOGOUT", "STATE_CHANGE", "HEART_BEAT"}
    assert {d["eventType"] for d in contact} == {
        "INITIATED", "CONNECTED_TO_SYSTEM", "QUEUED", "CONNECTED_TO_AGENT", "DISCONNECTED",
        "COMPLETED", "PAUSED", "RESUMED"}
    states = {c["State"] for r in agent for c in r["CurrentAgentSnapshot"]["Contacts"]}
    assert states == {"CONNECTING", "INCOMING", "CONNECTED", "CONNECTED_ONHOLD", "PAUSED",
                      "MISSED", "ERROR", "ENDED"}
    assert {d["initiationMethod"] for d in contact} == {
        "INBOUND", "API", "OUTBOUND", "TRANSFER", "CALLBACK"}
    assert {d["channel"] for d in contact} == {"VOICE", "CHAT", "TASK"}
    assert {d["queueInfo"]["queueType"] for d in contact if "queueInfo" in d} == {
        "STANDARD", "AGENT"}
    statuses = {r["CurrentAgentSnapshot"]["AgentStatus"]["Name"] for r in agent}
    assert statuses == {"Available", "Offline", "Break", "Lunch"}
    following = {r["CurrentAgentSnapshot"]["NextAgentStatus"]["Name"] for r in agent
                 if r["CurrentAgentSnapshot"]["NextAgentStatus"]}
    assert following == {"Break", "Lunch", "Offline"}


def test_every_record_parses_and_keeps_its_time(busy):
    events, _ = busy
    kinds = Counter()
    for event in events:
        parsed = parse_record(event.payload, event.feed, 0)
        assert not isinstance(parsed, DeadLetter), (parsed.message, event.record)
        assert isinstance(parsed, AgentEvent if event.feed == AGENT_FEED else ContactEvent)
        if event_type(event) in ("PAUSED", "RESUMED"):  # no own timestamp: the envelope's
            assert parsed.event_time == event.at - event.at % 1000
        else:
            assert parsed.event_time == event.at
        kinds[event.feed] += 1
    assert kinds[AGENT_FEED] > 1000 and kinds[CONTACT_FEED] > 1000
    assert [e.at for e in events] == sorted(e.at for e in events)
    assert all(START <= e.at < START + HOUR for e in events)


def test_agent_records_have_connects_shape_and_chain_their_snapshots(busy):
    events, _ = busy
    last: dict[str, dict] = {}
    for event in events:
        if event.feed != AGENT_FEED:
            continue
        record = event.record
        assert set(record) == AGENT_KEYS
        assert record["Version"] == "2019-05-25"
        assert event.partition_key == record["AgentARN"]
        instance = INSTANCE_ARN.match(record["InstanceARN"]).group("id")
        assert re.fullmatch(
            rf"arn:aws:connect:us-east-1:\d{{12}}:instance/{instance}/agent/[0-9a-f-]{{36}}",
            record["AgentARN"])
        assert UUID.match(record["EventId"])
        current = record["CurrentAgentSnapshot"]
        if record["EventType"] in ("LOGIN", "LOGOUT"):
            assert record["PreviousAgentSnapshot"] is None
        else:
            assert record["PreviousAgentSnapshot"] == last[record["AgentARN"]]
        if record["EventType"] == "HEART_BEAT":
            assert current == record["PreviousAgentSnapshot"]
        last[record["AgentARN"]] = current
        profile = current["Configuration"]["RoutingProfile"]
        assert profile["InboundQueues"][-1]["ARN"].endswith("/queue/agent/" +
                                                           record["AgentARN"].split("/")[-1])
        assert profile["InboundQueues"][-1]["Name"] is None
        holding = Counter(c["Channel"] for c in current["Contacts"]
                          if c["State"] not in ("MISSED", "ERROR", "REJECTED"))
        for slots in profile["Concurrency"]:
            others = sum(n for channel, n in holding.items() if channel != slots["Channel"])
            expected = 0 if others else slots["MaximumSlots"] - holding[slots["Channel"]]
            assert slots["AvailableSlots"] == expected >= 0
        for contact in current["Contacts"]:
            assert UUID.match(contact["ContactId"])
            if contact["InitiationMethod"] == "OUTBOUND":
                assert contact["QueueTimestamp"] is None and contact["Queue"]["ARN"]
            else:
                assert ms(contact["QueueTimestamp"]) <= ms(contact["StateStartTimestamp"])
            talking = contact["State"] in ("CONNECTED", "CONNECTED_ONHOLD", "PAUSED")
            ended = contact["State"] == "ENDED"
            if talking or (ended and contact["InitiationMethod"] != "OUTBOUND"):
                # (an outbound call nobody answered ends without ever being connected)
                assert contact["ConnectedToAgentTimestamp"] is not None
        if current["NextAgentStatus"] is not None:
            assert current["Contacts"] and ms(current["NextAgentStatus"]["EnqueuedTimestamp"])


def test_contact_records_are_eventbridge_envelopes_with_connects_detail(busy):
    events, _ = busy
    for event in events:
        if event.feed != CONTACT_FEED:
            continue
        record = event.record
        detail = record["detail"]
        assert set(record) == ENVELOPE_KEYS
        assert record["detail-type"] == "Amazon Connect Contact Event"
        assert record["source"] == "aws.connect" and record["version"] == "0"
        assert UUID.match(record["id"]) and UUID.match(detail["contactId"])
        assert record["resources"] == [
            f"{detail['instanceArn']}/contact/{detail['contactId']}", detail["instanceArn"]]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", record["time"])
        assert event.partition_key == detail["contactId"]
        method = detail["initiationMethod"]
        if method == "OUTBOUND":
            assert "queueInfo" not in detail and detail["agentInfo"]["agentArn"]
        if detail["eventType"] == "QUEUED":
            queue = detail["queueInfo"]
            assert ms(queue["enqueueTimestamp"]) == event.at
            agent_queue = "/queue/agent/" in queue["queueArn"]
            assert queue["queueType"] == ("AGENT" if agent_queue else "STANDARD")
        if method in ("TRANSFER", "CALLBACK"):
            assert detail["previousContactId"] and detail["initialContactId"] != detail[
                "contactId"]
        if detail["eventType"] == "COMPLETED" and "agentInfo" in detail and (
                "connectedToAgentTimestamp" in detail["agentInfo"]):
            info = detail["agentInfo"]
            assert ms(info["afterContactWorkEndTimestamp"]) == event.at
            assert info["afterContactWorkStartTimestamp"] == detail["disconnectTimestamp"]
            if detail["channel"] == "VOICE":
                assert isinstance(info["agentInitiatedHoldDuration"], int)


def test_a_missed_contact_is_offered_again_and_the_agent_stays_missed_until_it_sets_a_status(
        busy):
    events, truth = busy
    by_agent = defaultdict(list)
    for event in events:
        if event.feed == AGENT_FEED:
            by_agent[event.record["AgentARN"].split("/")[-1]].append(event.record)
    missed = [c for c in truth.of("contact")
              if any(o["outcome"] == "missed" for o in c["offers"])]
    assert missed
    for contact in missed:
        offers = contact["offers"]
        first = next(n for n, o in enumerate(offers) if o["outcome"] == "missed")
        offer = offers[first]
        records = by_agent[offer["agent_id"]]
        (index,) = [n for n, r in enumerate(records) if any(
            c["ContactId"] == contact["contact_id"] and c["State"] == "MISSED"
            and ms(c["StateStartTimestamp"]) == offer["until"]
            for c in r["CurrentAgentSnapshot"]["Contacts"])
            and not any(c["ContactId"] == contact["contact_id"] and c["State"] == "MISSED"
                        for c in (r["PreviousAgentSnapshot"] or {}).get("Contacts", []))]
        # offered for the whole ring time, then MISSED until the agent sets its status again
        assert offer["until"] - offer["at"] == 30_000 if contact["channel"] == "CHAT" else True
        later = records[index + 1:]
        cleared = next(r for r in later if not any(
            c["ContactId"] == contact["contact_id"] for c in r["CurrentAgentSnapshot"]["Contacts"]))
        assert ms(cleared["CurrentAgentSnapshot"]["AgentStatus"]["StartTimestamp"]) == ms(
            cleared["EventTimestamp"])
        assert all(any(c["State"] == "MISSED" for c in r["CurrentAgentSnapshot"]["Contacts"])
                   for r in later[:later.index(cleared)])
        if len(offers) > first + 1:
            assert offers[first + 1]["at"] >= offer["until"]
    assert any(len(c["offers"]) > 1 and c["queue_outcome"] == "answered" for c in missed)
    segments = [s for s in truth.of("agent_activity") if s["activity"] == "MISSED"]
    assert len(segments) >= len(missed)


def test_a_status_chosen_on_a_contact_waits_as_next_status(busy):
    events, _ = busy
    by_agent = defaultdict(list)
    for event in events:
        if event.feed == AGENT_FEED:
            by_agent[event.record["AgentARN"]].append(event.record)
    checked = 0
    for records in by_agent.values():
        for n, record in enumerate(records):
            chosen = record["CurrentAgentSnapshot"]["NextAgentStatus"]
            previous = record["PreviousAgentSnapshot"]
            if chosen is None or (previous and previous["NextAgentStatus"]):
                continue
            taken = next((r for r in records[n:]
                          if r["CurrentAgentSnapshot"]["NextAgentStatus"] is None), None)
            if taken is None:
                continue  # still on a contact when the run ended
            chosen = taken["PreviousAgentSnapshot"]["NextAgentStatus"]  # (Offline beats Break)
            snapshot = taken["CurrentAgentSnapshot"]
            assert snapshot["AgentStatus"]["Name"] == chosen["Name"]
            assert snapshot["AgentStatus"]["StartTimestamp"] == taken["EventTimestamp"]
            assert snapshot["Contacts"] == []
            checked += 1
    assert checked > 10


def test_heartbeats_come_every_120_s_of_silence_until_an_hour_after_logout(busy):
    events, _ = busy
    by_agent = defaultdict(list)
    for event in events:
        if event.feed == AGENT_FEED:
            by_agent[event.record["AgentARN"]].append(event)
    after_logout = every_feature().shifts.heartbeat_after_logout_s * 1000
    for records in by_agent.values():
        logged_out_at = None
        for before, after in zip(records, records[1:]):
            gap = after.at - before.at
            if event_type(after) == "HEART_BEAT":
                assert gap == HEARTBEAT_MS
            if event_type(before) == "LOGOUT":
                logged_out_at = before.at
            if event_type(after) == "LOGIN":
                logged_out_at = None
            if logged_out_at is None or before.at + HEARTBEAT_MS <= logged_out_at + after_logout:
                assert gap <= HEARTBEAT_MS
        last = records[-1].at
        if logged_out_at is None or last + HEARTBEAT_MS <= logged_out_at + after_logout:
            assert START + HOUR - last <= HEARTBEAT_MS


# --- determinism -----------------------------------------------------------------------------


def run_bytes(seed: int, **changes) -> tuple[list[bytes], list[dict]]:
    truth = TruthList()
    settings = CentreSettings(agents=8, queues=2, arrivals_per_minute=8,
                              channels=("VOICE", "CHAT", "TASK"), **changes)
    simulation = Simulation(settings, seed=seed, start_ms=START, faults=FAULTS, truth=truth)
    return [e.payload for e in simulation.events(30 * 60_000)], list(truth)


def test_the_same_seed_gives_the_same_bytes_and_truth():
    first, first_truth = run_bytes(3)
    second, second_truth = run_bytes(3)
    assert first == second
    assert orjson.dumps(first_truth) == orjson.dumps(second_truth)
    other, other_truth = run_bytes(4)
    assert other != first and other_truth != first_truth


def test_the_old_centre_entry_point_still_works():
    centre = Centre(CentreSettings(agents=4, arrivals_per_minute=30), seed=7, start_ms=START)
    records = [orjson.dumps(e.record) for e in centre.events(30 * 60_000)]
    again = Centre(CentreSettings(agents=4, arrivals_per_minute=30), seed=7, start_ms=START)
    assert records == [orjson.dumps(e.record) for e in again.events(30 * 60_000)]
    with pytest.raises(RuntimeError):
        next(centre.events(1))


def test_several_instances_have_their_own_ids_and_merge_in_time_order():
    truth = TruthList()
    settings = CentreSettings(agents=5, queues=2, arrivals_per_minute=6)
    simulation = Simulation([settings, settings, settings], seed=9, start_ms=START, truth=truth)
    events = list(simulation.events(20 * 60_000))
    ids = [c.instance_id for c in simulation.centres]
    assert len(set(ids)) == 3 and all(UUID.match(i) for i in ids)
    seen = Counter()
    for event in events:
        arn = event.record.get("InstanceARN") or event.record["detail"]["instanceArn"]
        seen[INSTANCE_ARN.match(arn).group("id")] += 1
    assert set(seen) == set(ids)
    assert [e.at for e in events] == sorted(e.at for e in events)
    assert {line["instance_id"] for line in truth.of("summary")} == set(ids)
    assert truth[0]["kind"] == "meta" and truth[0]["instance_ids"] == ids
    queues = [q.queue_id for c in simulation.centres for q in c.queues]
    assert len(set(queues)) == len(queues)


def test_arrivals_follow_the_day_profile_and_stop_when_told():
    def arrivals(start_ms: int, **changes) -> int:
        settings = CentreSettings(agents=20, queues=1, arrivals_per_minute=10,
                                  day_profile=OFFICE_DAY, **changes)
        truth = TruthList()
        list(Centre(settings, seed=1, start_ms=start_ms, truth=truth).events(HOUR))
        return sum(1 for c in truth.of("contact") if c["initiation_method"] in ("INBOUND", "API"))

    night = START - START % (24 * HOUR) + 2 * HOUR   # 02:00 UTC: rate x 0.03
    morning = night + 8 * HOUR                      # 10:00 UTC: rate x 1.4
    assert arrivals(night) < 60 < 700 < arrivals(morning) < 1000
    assert arrivals(morning, arrivals_end_s=600) < 200


# --- faults ----------------------------------------------------------------------------------


def test_fault_settings_parse():
    assert FaultSettings.parse(
        "duplicates=0.01,reorder=0.02,reorder-ms=5000,drop=0.001,malformed=0.001,casing=0.01"
    ) == FaultSettings(0.01, 0.02, 5000, 0.001, 0.001, 0.01)
    assert FaultSettings.parse("") == FaultSettings()
    for bad in ("drop", "drop=x", "drop=2", "nonsense=0.1"):
        with pytest.raises(ValueError):
            FaultSettings.parse(bad)


def test_only_injected_malformed_records_are_dead_letters(faulty):
    events, truth = faulty
    faults = truth.of("fault")
    malformed = {f["index"]: f for f in faults if f["fault"] == "malformed"}
    assert len(malformed) > 20
    variants = Counter(f["variant"] for f in malformed.values())
    assert set(variants) == {"not_json", "not_utf8", "missing_key"}
    dead = set()
    for index, event in enumerate(events):
        parsed = parse_record(event.payload, event.feed, 0)
        if isinstance(parsed, DeadLetter):
            dead.add(index)
            assert hashlib.sha256(event.payload).hexdigest() == malformed[index]["sha256"]
    assert dead == set(malformed)
    assert all(f["dead_letter"] == (f["fault"] == "malformed") for f in faults)


def test_faults_are_exactly_those_the_truth_lists(busy, faulty):
    clean, clean_truth = busy
    events, truth = faulty
    original = {event_id(e.record): e for e in clean}
    faults = truth.of("fault")
    counts = Counter(f["fault"] for f in faults)
    assert all(counts[kind] > 20 for kind in ("drop", "casing", "reorder", "duplicate"))
    dropped = {f["event_id"] for f in faults if f["fault"] == "drop"}
    duplicated = {f["event_id"] for f in faults if f["fault"] == "duplicate"}
    recased = {f["index"] for f in faults if f["fault"] == "casing"}
    delayed = {f["event_id"]: f["delay_ms"] for f in faults if f["fault"] == "reorder"}
    malformed = {f["index"] for f in faults if f["fault"] == "malformed"}
    delivered = Counter()
    newest = 0
    agent_newest: dict[str, int] = {}
    for index, event in enumerate(events):
        if index in malformed:
            continue
        parsed = parse_record(event.payload, event.feed, 0)
        source = original[parsed.event_id]
        delivered[parsed.event_id] += 1
        # a record is late by its injected delay at most (plus a second for a duplicate); an
        # agent record also waits for that agent's delayed ones, which keeps each agent's order
        late = delayed.get(parsed.event_id, 0) + (1_000 if parsed.event_id in duplicated else 0)
        if event.feed == "agent":
            late = max(late, FAULTS.reorder_ms)
            if parsed.event_id not in duplicated:
                assert source.at >= agent_newest.get(event.partition_key, 0)
                agent_newest[event.partition_key] = source.at
        assert source.at >= newest - FAULTS.reorder_ms - 1_000
        assert event.at - source.at <= late + (1_000 if parsed.event_id in duplicated else 0)
        newest = max(newest, source.at)
        if index in recased:
            assert event.payload != source.payload
        if index in recased or event.payload != source.payload:
            assert parsed == parse_record(source.payload, event.feed, 0)
    assert set(delivered) == set(original) - dropped
    assert {i for i, n in delivered.items() if n == 2} == duplicated
    assert max(delivered.values()) <= 2
    # the simulation itself is the same with faults: same metric truth
    for kind in ("interval", "contact", "queue_gauge", "agent_gauge", "agent_activity"):
        assert truth.of(kind) == clean_truth.of(kind)


# --- outputs ---------------------------------------------------------------------------------


def test_json_lines_files_plain_gzip_and_one_per_feed(tmp_path, faulty):
    events, _ = faulty
    with JsonLinesOutput(tmp_path / "all.jsonl") as plain, \
            JsonLinesOutput(tmp_path / "all.jsonl.gz") as packed, \
            JsonLinesOutput(tmp_path / "{feed}.jsonl.gz") as split:
        for event in events:
            plain.add(event)
            packed.add(event)
            split.add(event)
    lines = (tmp_path / "all.jsonl").read_bytes().splitlines()
    assert lines == [e.payload for e in events]
    assert gzip.decompress((tmp_path / "all.jsonl.gz").read_bytes()).splitlines() == lines
    for feed in (AGENT_FEED, CONTACT_FEED):
        assert gzip.decompress((tmp_path / f"{feed}.jsonl.gz").read_bytes()).splitlines() == [
            e.payload for e in events if e.feed == feed]
    assert plain.sent == packed.sent == len(events)
    # gzip output is reproducible too (no time stamp in the header)
    with JsonLinesOutput(tmp_path / "again.jsonl.gz") as again:
        for event in events:
            again.add(event)
    assert (tmp_path / "again.jsonl.gz").read_bytes() == (tmp_path / "all.jsonl.gz").read_bytes()


def test_progress_lines():
    out = io.StringIO()
    ticks = iter([0.0, 1.0, 6.0, 7.0])
    progress = Progress(START, START + HOUR, every_s=5.0, stream=out, clock=lambda: next(ticks))
    progress.update(START + 60_000, 10)
    progress.update(START + 754_000, 1234)
    progress.update(START + 800_000, 1300)
    assert out.getvalue() == (
        "simulate: 00:12:34 of 01:00:00 simulated (at 2026-11-23T10:12:34Z), "
        "1234 records written\n")


class StubKinesis:
    def __init__(self, fail_first: int = 0):
        self.calls: list[tuple[str, list[dict]]] = []
        self.stored: dict[str, list[dict]] = defaultdict(list)
        self._fail = fail_first

    def put_records(self, StreamName, Records):  # noqa: N803 - boto3's names
        self.calls.append((StreamName, list(Records)))
        results = []
        for record in Records:
            if self._fail:
                self._fail -= 1
                results.append({"ErrorCode": "ProvisionedThroughputExceededException"})
            else:
                self.stored[StreamName].append(record)
                results.append({"SequenceNumber": "1", "ShardId": "shardId-0"})
        return {"FailedRecordCount": sum("ErrorCode" in r for r in results), "Records": results}


def test_the_publisher_batches_retries_and_keeps_each_stream(busy):
    events, _ = busy
    client = StubKinesis(fail_first=700)
    sleeps = []
    publisher = KinesisPublisher(client, {AGENT_FEED: "agents", CONTACT_FEED: "contacts"},
                                 sleep=sleeps.append)
    for event in events:
        publisher.add(event)
    publisher.flush()
    assert publisher.sent == len(events)
    assert all(len(records) <= 500 for _, records in client.calls)
    assert sleeps and all(s <= 5.0 for s in sleeps)
    assert sum(len(records) for _, records in client.calls) == len(events) + 700
    for feed, stream in ((AGENT_FEED, "agents"), (CONTACT_FEED, "contacts")):
        expected = [(e.payload, e.partition_key) for e in events if e.feed == feed]
        got = [(r["Data"], r["PartitionKey"]) for r in client.stored[stream]]
        assert sorted(got) == sorted(expected) and len(got) == len(set(got))


def test_the_publisher_gives_up_after_its_attempts():
    publisher = KinesisPublisher(StubKinesis(fail_first=10**6), {AGENT_FEED: "a"},
                                 max_attempts=3, sleep=lambda s: None)
    publisher.add(Emitted(AGENT_FEED, "k", {"x": 1}, 0))
    with pytest.raises(RuntimeError, match="still failing"):
        publisher.flush()


def test_paced_publishing_follows_the_simulated_clock():
    now = [100.0]
    sleeps = []

    def sleep(seconds):
        sleeps.append(seconds)
        now[0] += seconds

    class Recorder:
        def __init__(self):
            self.added = []

        def add(self, event):
            self.added.append((event.at, now[0]))

        def flush(self):
            pass

    events = [Emitted(AGENT_FEED, "k", {}, at) for at in (-5_000, 0, 2_000, 2_000, 6_000)]
    recorder = Recorder()
    publish_paced(events, recorder, origin_ms=0, speed=2.0, clock=lambda: now[0], sleep=sleep)
    assert recorder.added == [(-5_000, 100.0), (0, 100.0), (2_000, 101.0), (2_000, 101.0),
                              (6_000, 103.0)]


# --- command line ----------------------------------------------------------------------------


@pytest.mark.parametrize("text, millis", [
    ("90s", 90_000), ("30m", 1_800_000), ("1h", 3_600_000), ("1h30m", 5_400_000),
    ("150", 150_000), ("2.5s", 2_500), ("250ms", 250), ("0", 0),
])
def test_durations(text, millis):
    assert cli.parse_duration(text) == millis


@pytest.mark.parametrize("text", ["", "1x", "h", "-5s", "1h-"])
def test_bad_durations(text):
    with pytest.raises(ValueError):
        cli.parse_duration(text)


def parse_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_command_line_writes_files_truth_and_progress(tmp_path, capsys):
    args = parse_args("--agents", "6", "--queues", "2", "--duration", "20m", "--seed", "4",
                      "--start", "2026-01-05T08:00:00Z", "--channels", "voice,chat,task",
                      "--faults", "malformed=0.05,casing=0.05", "--out",
                      str(tmp_path / "events.jsonl.gz"), "--truth", str(tmp_path / "truth.jsonl"))
    assert cli.run(args, Config()) == 0
    lines = gzip.decompress((tmp_path / "events.jsonl.gz").read_bytes()).splitlines()
    truth = read_truth(tmp_path / "truth.jsonl")
    assert truth[0]["kind"] == "meta" and truth[0]["start_ms"] == ms("2026-01-05T08:00:00Z")
    assert truth[-1] == {"kind": "end", "end_ms": truth[0]["start_ms"] + 1_200_000,
                         "records_delivered": len(lines), "faults": truth[-1]["faults"]}
    assert truth[-1]["faults"]["malformed"] > 0
    dead = sum(isinstance(parse_record(line, "s", 0), DeadLetter) for line in lines)
    assert dead == truth[-1]["faults"]["malformed"]
    err = capsys.readouterr().err
    assert re.search(r"simulate: 00:\d\d:\d\d of 00:20:00 simulated .*, \d+ records written", err)
    again = tmp_path / "again.jsonl.gz"
    args.out, args.truth = str(again), None
    assert cli.run(args, Config()) == 0
    assert again.read_bytes() == (tmp_path / "events.jsonl.gz").read_bytes()


def test_command_line_needs_a_duration_for_files(tmp_path):
    with pytest.raises(ValueError, match="--duration"):
        cli.run(parse_args("--out", str(tmp_path / "x.jsonl")), Config())
    with pytest.raises(SystemExit):
        parse_args("--channels", "voice,fax")


def test_command_line_publishes_to_the_configured_streams(monkeypatch):
    import boto3

    import jobs.main

    client = StubKinesis()
    made = {}

    def fake_client(service, **options):
        made.update(service=service, **options)
        return client

    monkeypatch.setattr(boto3, "client", fake_client)
    credentials = []
    monkeypatch.setattr(jobs.main, "use_local_credentials", credentials.append)
    config = Config()
    args = parse_args("--agents", "3", "--duration", "10m", "--backlog", "10m", "--speed", "1000",
                      "--instances", "2")
    assert cli.run(args, config) == 0
    assert credentials == [config]
    assert made == {"service": "kinesis", "region_name": config.kinesis.region,
                    "endpoint_url": config.kinesis.endpoint}
    streams = {stream for stream, _ in client.calls}
    assert streams == {config.kinesis.agent_stream, config.kinesis.contact_stream}
    records = [orjson.loads(r["Data"]) for batch in client.stored.values() for r in batch]
    instances = {r.get("InstanceARN") or r["detail"]["instanceArn"] for r in records}
    assert len(instances) == 2


def test_a_renamed_queue_is_named_anew_in_every_snapshot_after_the_rename():
    truth = TruthList()
    settings = CentreSettings(agents=6, queues=2, arrivals_per_minute=6,
                              queue_renames=((1, 600.0, "Support line"),))
    events = list(Simulation(settings, seed=2, start_ms=START, truth=truth).events(HOUR // 3))
    (rename,) = truth.of("queue_renamed")
    assert rename["name"] == "Support line" and rename["at"] == START + 600_000
    renamed = rename["queue_id"]
    names: dict[bool, set] = defaultdict(set)  # after the rename -> names the snapshots gave
    for e in events:
        if e.feed != AGENT_FEED:
            continue
        current = e.record["CurrentAgentSnapshot"]
        queues = [*current["Configuration"]["RoutingProfile"]["InboundQueues"],
                  *(c["Queue"] for c in current["Contacts"] if c["Queue"])]
        names[e.at >= rename["at"]].update(q["Name"] for q in queues
                                           if q["ARN"].endswith("/queue/" + renamed))
    assert names == {False: {"Support"}, True: {"Support line"}}
    # the rest of the run is the run without the rename
    plain = Simulation(CentreSettings(agents=6, queues=2, arrivals_per_minute=6), seed=2,
                       start_ms=START)
    assert [e.at for e in plain.events(HOUR // 3)] == [e.at for e in events]
    with pytest.raises(ValueError, match="bad rename"):
        CentreSettings(queues=2, queue_renames=((2, 10.0, "Nowhere"),))
