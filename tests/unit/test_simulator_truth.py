"""The simulator's ground truth agrees with the records it emits: interval metrics recomputed
from the contact events, queue gauges from the queue stays, agent gauges from the agent
snapshots and from the activity timelines, ACW and hold as Connect's recipes read them."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime

import pytest

from simulator.centre import AGENT_FEED, CONTACT_FEED, Centre
from simulator.scenarios import every_feature
from simulator.truth import INTERVAL_METRICS, TruthList

START = 1_795_428_000_000  # on the hour
HOUR = 3_600_000
END = START + HOUR


def ms(text: str | None) -> int | None:
    if text is None:
        return None
    return round(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def queue_id(arn: str) -> str:
    return arn.split("/queue/", 1)[1]


def minute(at: int) -> int:
    return at - at % 60_000


@pytest.fixture(scope="module")
def run():
    truth = TruthList()
    centre = Centre(every_feature(), seed=11, start_ms=START, truth=truth)
    events = list(centre.events(HOUR))
    return events, truth


@pytest.fixture(scope="module")
def contact_events(run):
    events, _ = run
    return [e.record["detail"] for e in events if e.feed == CONTACT_FEED]


@pytest.fixture(scope="module")
def agent_records(run):
    events, _ = run
    return [e.record for e in events if e.feed == AGENT_FEED]


def feed_interval_metrics(details: list[dict]) -> dict[tuple, int]:
    """Connect's interval metrics recomputed from contact events alone, with the bucketing
    conventions of docs/simulator-truth.md."""
    rows: Counter = Counter()
    by_contact: dict[str, dict[str, dict]] = defaultdict(dict)
    for detail in details:
        by_contact[detail["contactId"]][detail["eventType"]] = detail
    asked_callback = {
        d["previousContactId"] for d in details
        if d["eventType"] == "INITIATED" and d["initiationMethod"] == "CALLBACK"
    }

    def add(detail, at, metric, value=1):
        key = (queue_id(detail["queueInfo"]["queueArn"]), detail["channel"], minute(at), metric)
        rows[key] += value

    def removed(detail, at, waited):
        add(detail, at, "contacts_removed")
        for seconds in (20, 60):
            if waited <= seconds * 1000:
                add(detail, at, f"contacts_removed_in_{seconds}")

    for contact_id, events in by_contact.items():
        queued = events.get("QUEUED")
        if queued is not None:
            enqueued = ms(queued["queueInfo"]["enqueueTimestamp"])
            add(queued, enqueued, "contacts_queued")
            if queued["initiationMethod"] == "CALLBACK":
                add(queued, enqueued, "callbacks")
            answered = events.get("CONNECTED_TO_AGENT")
            disconnected = events.get("DISCONNECTED")
            if answered is not None:
                at = ms(answered["agentInfo"]["connectedToAgentTimestamp"])
                waited = at - enqueued
                add(answered, at, "contacts_handled")
                add(answered, at, "sum_queue_answer_time_ms", waited)
                for seconds in (20, 60):
                    if waited <= seconds * 1000:
                        add(answered, at, f"sum_contacts_answered_in_{seconds}")
                removed(answered, at, waited)
            elif disconnected is not None:
                at = ms(disconnected["disconnectTimestamp"])
                if contact_id not in asked_callback:
                    add(disconnected, at, "contacts_abandoned")
                removed(disconnected, at, at - enqueued)
            completed = events.get("COMPLETED")
            if answered is not None and completed is not None:
                agent = completed["agentInfo"]
                acw_start = ms(agent["afterContactWorkStartTimestamp"])
                acw_end = ms(agent["afterContactWorkEndTimestamp"])
                connected = ms(agent["connectedToAgentTimestamp"])
                add(completed, acw_end, "contacts_completed")
                add(completed, acw_end, "sum_handle_time_ms", acw_end - connected)
                add(completed, acw_end, "sum_acw_time_ms", acw_end - acw_start)
                hold = agent.get("agentInitiatedHoldDuration") or 0
                add(completed, acw_end, "sum_hold_time_ms", hold * 1000)
        initiated = events.get("INITIATED")
        if initiated is not None and initiated["initiationMethod"] == "TRANSFER":
            original = by_contact[initiated["previousContactId"]].get("COMPLETED")
            if original is not None:
                add(original, ms(original["agentInfo"]["afterContactWorkEndTimestamp"]),
                    "contacts_transferred_out")
    return {key: value for key, value in rows.items() if value}


def truth_interval_metrics(truth: TruthList) -> dict[tuple, int]:
    rows = {}
    for line in truth.of("interval"):
        for metric in INTERVAL_METRICS:
            if line[metric]:
                rows[(line["queue_id"], line["channel"], line["interval_start"], metric)] = (
                    line[metric]
                )
    return rows


def test_interval_metrics_equal_those_recomputed_from_the_contact_events(run, contact_events):
    _, truth = run
    expected = feed_interval_metrics(contact_events)
    actual = truth_interval_metrics(truth)
    assert actual == expected
    metrics = Counter()
    for (_, _, _, metric), value in actual.items():
        metrics[metric] += value
    # the scenario exercises every metric
    assert all(metrics[name] > 0 for name in INTERVAL_METRICS), metrics


def test_queued_counts_equal_the_queued_events(run, contact_events):
    _, truth = run
    queued = Counter(
        (queue_id(d["queueInfo"]["queueArn"]), d["channel"],
         minute(ms(d["queueInfo"]["enqueueTimestamp"])))
        for d in contact_events if d["eventType"] == "QUEUED"
    )
    in_truth = Counter({
        (line["queue_id"], line["channel"], line["interval_start"]): line["contacts_queued"]
        for line in truth.of("interval") if line["contacts_queued"]
    })
    assert in_truth == queued
    assert sum(queued.values()) == sum(1 for d in contact_events if d["eventType"] == "QUEUED")
    assert not any(d["initiationMethod"] == "OUTBOUND" and d["eventType"] == "QUEUED"
                   for d in contact_events)


def test_interval_lines_are_aligned_minutes_inside_the_run(run):
    _, truth = run
    keys = set()
    for line in truth.of("interval"):
        assert line["interval_start"] % 60_000 == 0
        assert line["interval_end"] == line["interval_start"] + 60_000
        assert START <= line["interval_start"] < END
        key = (line["instance_id"], line["queue_id"], line["channel"], line["interval_start"])
        assert key not in keys
        keys.add(key)
        assert any(line[metric] for metric in INTERVAL_METRICS)


def test_queue_stays_in_the_truth_match_the_contact_events(run, contact_events):
    _, truth = run
    by_contact: dict[str, dict[str, dict]] = defaultdict(dict)
    for detail in contact_events:
        by_contact[detail["contactId"]][detail["eventType"]] = detail
    contacts = truth.of("contact")
    assert {c["contact_id"] for c in contacts} == set(by_contact)
    for contact in contacts:
        events = by_contact[contact["contact_id"]]
        queued = events.get("QUEUED")
        if queued is None:
            assert contact["enqueued_at"] is None
            continue
        assert contact["enqueued_at"] == ms(queued["queueInfo"]["enqueueTimestamp"])
        assert contact["queue_id"] == queue_id(queued["queueInfo"]["queueArn"])
        outcome = contact["queue_outcome"]
        if outcome == "answered":
            connected = events["CONNECTED_TO_AGENT"]["agentInfo"]["connectedToAgentTimestamp"]
            assert contact["left_queue_at"] == ms(connected)
            assert contact["queue_answer_time_ms"] == contact["left_queue_at"] - contact[
                "enqueued_at"]
        elif outcome in ("abandoned", "callback_requested"):
            assert contact["left_queue_at"] == ms(events["DISCONNECTED"]["disconnectTimestamp"])
            assert "CONNECTED_TO_AGENT" not in events
        else:
            assert outcome == "waiting"
            assert contact["left_queue_at"] is None
            assert not {"CONNECTED_TO_AGENT", "DISCONNECTED"} & set(events)


def test_queue_gauges_follow_the_queue_stays(run):
    _, truth = run
    stays = defaultdict(list)
    for contact in truth.of("contact"):
        if contact["enqueued_at"] is not None:
            stays[(contact["queue_id"], contact["channel"])].append(
                (contact["enqueued_at"], contact["left_queue_at"] or END))
    gauges = truth.of("queue_gauge")
    standard = {q["queue_id"] for q in truth.of("instance")[0]["queues"]}
    samples = sorted({g["at"] for g in gauges})
    assert samples == list(range(START, END, 5_000))
    seen = set()
    for gauge in gauges:
        at = gauge["at"]
        waiting = [at - enqueued for enqueued, left in stays[(gauge["queue_id"], gauge["channel"])]
                   if enqueued <= at < left]
        assert gauge["contacts_in_queue"] == len(waiting), gauge
        assert gauge["oldest_contact_age_ms"] == max(waiting, default=0), gauge
        seen.add((gauge["queue_id"], gauge["channel"], at))
    # every standard queue and channel has a gauge at every sample; others only while waiting
    for at in samples:
        for queue in standard:
            for channel in ("VOICE", "CHAT", "TASK"):
                assert (queue, channel, at) in seen
    for (queue, channel), spans in stays.items():
        if queue in standard:
            continue
        for at in samples:
            if any(enqueued <= at < left for enqueued, left in spans):
                assert (queue, channel, at) in seen


def snapshot_flags(record: dict) -> dict[str, bool] | None:
    """Connect's agent metric definitions applied to one agent event's current snapshot."""
    snapshot = record["CurrentAgentSnapshot"]
    status = snapshot["AgentStatus"]["Type"]
    if record["EventType"] == "LOGOUT" or status == "OFFLINE":
        return None
    states = [(c["State"], c["InitiationMethod"]) for c in snapshot["Contacts"]]
    names = {state for state, _ in states}
    free = any(s["AvailableSlots"] > 0
               for s in snapshot["Configuration"]["RoutingProfile"]["Concurrency"])
    return {
        "available": status == "ROUTABLE" and free and not names & {"MISSED", "ERROR",
                                                                    "REJECTED"},
        "on_contact": any(
            state in ("CONNECTED", "CONNECTED_ONHOLD", "PAUSED", "ENDED")
            or (state == "CONNECTING" and method == "OUTBOUND") for state, method in states),
        "acw": "ENDED" in names,
        "non_productive": status == "CUSTOM",
        "error": "ERROR" in names,
        "staffed": status != "CUSTOM",
    }


def test_agent_gauges_equal_those_read_from_the_agent_snapshots(run, agent_records):
    _, truth = run
    gauges = truth.of("agent_gauge")
    assert [g["at"] for g in gauges] == list(range(START, END, 5_000))
    latest: dict[str, dict] = {}
    position = 0
    for gauge in gauges:
        while position < len(agent_records) and ms(
                agent_records[position]["EventTimestamp"]) <= gauge["at"]:
            record = agent_records[position]
            latest[record["AgentARN"]] = record
            position += 1
        expected = Counter()
        for record in latest.values():
            flags = snapshot_flags(record)
            if flags is None:
                continue
            expected["online"] += 1
            for name, on in flags.items():
                expected[name] += on
        actual = {k: gauge[k] for k in ("online", "available", "on_contact", "acw",
                                        "non_productive", "error", "staffed")}
        assert actual == {k: expected[k] for k in actual}, gauge["at"]
    assert max(g["online"] for g in gauges) > 0
    assert max(g["non_productive"] for g in gauges) > 0
    assert max(g["error"] for g in gauges) > 0
    assert max(g["acw"] for g in gauges) > 0


def test_agent_gauges_equal_the_activity_timelines(run):
    _, truth = run
    segments = defaultdict(list)
    for segment in truth.of("agent_activity"):
        assert segment["start"] < segment["end"]
        segments[segment["agent_id"]].append(segment)
    agents = [a["agent_id"] for a in truth.of("agent")]
    for agent in agents:
        timeline = sorted(segments[agent], key=lambda s: s["start"])
        assert timeline[0]["start"] == START and timeline[-1]["end"] == END
        for before, after in zip(timeline, timeline[1:]):
            assert before["end"] == after["start"]
            assert (before["activity"], before["status"]) != (after["activity"], after["status"])
    for gauge in truth.of("agent_gauge"):
        at = gauge["at"]
        counts = Counter()
        for agent in agents:
            (now,) = [s for s in segments[agent] if s["start"] <= at < s["end"]]
            counts[now["activity"]] += 1
        assert gauge["online"] == len(agents) - counts["OFFLINE"]
        assert gauge["activities"] == {name: counts[name] for name in gauge["activities"]}


def test_acw_and_hold_read_the_connect_way_from_the_agent_feed(run, contact_events,
                                                               agent_records):
    by_agent = defaultdict(list)
    for record in agent_records:
        by_agent[record["AgentARN"]].append(record)
    completed = [d for d in contact_events
                 if d["eventType"] == "COMPLETED" and "afterContactWorkEndTimestamp"
                 in d.get("agentInfo", {})]
    assert completed
    for detail in completed:
        agent = detail["agentInfo"]
        acw_start = agent["afterContactWorkStartTimestamp"]
        acw_end = agent["afterContactWorkEndTimestamp"]
        assert agent["afterContactWorkDuration"] == (ms(acw_end) - ms(acw_start)) // 1000
        assert (ms(acw_end) - ms(acw_start)) % 1000 == 0
        contact_id = detail["contactId"]
        ends = [
            r for r in by_agent[agent["agentArn"]]
            if r["EventTimestamp"] == acw_end and r["PreviousAgentSnapshot"]
            and any(c["ContactId"] == contact_id and c["State"] == "ENDED"
                    and c["StateStartTimestamp"] == acw_start
                    for c in r["PreviousAgentSnapshot"]["Contacts"])
            and not any(c["ContactId"] == contact_id
                        for c in r["CurrentAgentSnapshot"]["Contacts"])
        ]
        assert len(ends) == 1, contact_id
        holds = 0
        for record in by_agent[agent["agentArn"]]:
            for c in record["PreviousAgentSnapshot"]["Contacts"] if record[
                    "PreviousAgentSnapshot"] else ():
                if c["ContactId"] == contact_id and c["State"] == "CONNECTED_ONHOLD" and not any(
                    n["ContactId"] == contact_id and n["State"] == "CONNECTED_ONHOLD"
                    for n in record["CurrentAgentSnapshot"]["Contacts"]
                ):
                    holds += ms(record["EventTimestamp"]) - ms(c["StateStartTimestamp"])
        assert holds == (agent.get("agentInitiatedHoldDuration") or 0) * 1000


def test_contact_lines_add_up(run):
    _, truth = run
    contacts = truth.of("contact")
    outcomes = Counter(c["outcome"] for c in contacts)
    (summary,) = truth.of("summary")
    assert dict(outcomes) == {k: v for k, v in summary["contacts"].items() if v}
    for contact in contacts:
        if contact["handle_time_ms"] is not None:
            assert contact["handle_time_ms"] == (
                contact["talk_time_ms"] + contact["hold_time_ms"] + contact["pause_time_ms"]
                + contact["acw_time_ms"])
            assert contact["acw_time_ms"] == contact["acw_end"] - contact["acw_start"]
        if contact["queue_outcome"] == "answered":
            assert contact["offers"][-1]["outcome"] == "accepted"
            assert contact["offers"][-1]["until"] == contact["connected_at"]
        for offer in contact["offers"][:-1]:
            assert offer["outcome"] in ("missed", "error")
        if contact["transferred_to"]:
            (transfer,) = [c for c in contacts if c["contact_id"] == contact["transferred_to"]]
            assert transfer["previous_contact_id"] == contact["contact_id"]
            assert transfer["initiated_at"] == contact["disconnected_at"]
            assert transfer["initiation_method"] == "TRANSFER"
        if contact["callback_contact_id"]:
            (callback,) = [c for c in contacts if c["contact_id"] == contact["callback_contact_id"]]
            assert callback["initiation_method"] == "CALLBACK"
            assert callback["enqueued_at"] == contact["left_queue_at"]
            assert contact["queue_outcome"] == "callback_requested"
