"""The real-time gauge core: samples at an instant, from queue changes and agent views."""

from __future__ import annotations

from dataclasses import replace

from jobs.core.gauges import (
    QUEUE, ROUTING_PROFILE, AgentCounts, AgentView, Board, QueueChange, Tracker, apply,
    first_sample_at, next_sample_at, sample, split_due,
)


def board() -> Board:
    return Board(waiting={}, agents={}, queues={}, profiles={}, queue_names={})


def agent(agent_id="a1", at=0, online=True, available=(("VOICE", 1),), on_contact=False,
          queue_ids=("q1", "agent/a1"), channels=("VOICE", "CHAT"), **flags) -> AgentView:
    return AgentView(
        agent_id, "rp1", "Sales", queue_ids, channels, online, available, on_contact,
        flags.get("in_acw", False), flags.get("non_productive", False),
        flags.get("in_error", False), flags.get("staffed", online),
        flags.get("slots_active", 0), at,
    )


def test_samples_include_their_instant():
    assert first_sample_at(10_000, 5_000) == 10_000
    assert first_sample_at(10_001, 5_000) == 15_000


def test_a_change_older_than_the_last_sample_taken_waits_for_the_next():
    assert first_sample_at(2_000, 5_000, taken=20_000) == 25_000
    assert first_sample_at(20_000, 5_000, taken=20_000) == 25_000
    assert first_sample_at(20_001, 5_000, taken=20_000) == 25_000
    assert first_sample_at(26_000, 5_000, taken=20_000) == 30_000


def test_due_changes_apply_in_time_order_keeping_arrival_order_among_equal_times():
    leave = QueueChange("c1", "q1", "VOICE", False, 4_000)
    enter = QueueChange("c1", "q2", "VOICE", True, 4_000)
    first = QueueChange("c2", "q1", "VOICE", True, 1_000)
    later = QueueChange("c3", "q1", "VOICE", True, 6_000)
    due, rest = split_due([leave, enter, later, first], 5_000)
    assert due == [first, leave, enter]
    assert rest == [later]


def test_queue_gauges_count_waiting_contacts_and_the_oldest_age():
    b = board()
    apply(b, QueueChange("c1", "q1", "VOICE", True, 1_000))
    apply(b, QueueChange("c2", "q1", "VOICE", True, 3_000))
    apply(b, QueueChange("c1", "q1", "VOICE", False, 4_000))
    queues, _ = sample("i1", b, 5_000)
    (gauge,) = queues
    assert (gauge.queue_id, gauge.contacts_in_queue, gauge.oldest_contact_age_ms) == ("q1", 1, 2_000)
    apply(b, QueueChange("c2", "q1", "VOICE", False, 6_000))
    (gauge,) = sample("i1", b, 10_000)[0]
    assert (gauge.contacts_in_queue, gauge.oldest_contact_age_ms) == (0, 0)  # still sampled


def test_a_move_between_queues_leaves_one_and_enters_the_other():
    b = board()
    apply(b, QueueChange("c1", "q1", "CHAT", True, 1_000))
    apply(b, QueueChange("c1", "q1", "CHAT", False, 2_000))
    apply(b, QueueChange("c1", "q2", "CHAT", True, 2_000))
    apply(b, QueueChange("c1", "q1", "CHAT", False, 2_000))  # a repeated leave of q1: no effect
    counts = {g.queue_id: g.contacts_in_queue for g in sample("i1", b, 5_000)[0]}
    assert counts == {"q1": 0, "q2": 1}


def test_agent_queues_are_sampled_only_while_a_contact_waits_in_them():
    b = board()
    apply(b, agent())
    apply(b, QueueChange("c1", "agent/a1", "VOICE", True, 1_000))
    keys = {(g.queue_id, g.channel) for g in sample("i1", b, 5_000)[0]}
    assert keys == {("q1", "VOICE"), ("q1", "CHAT"), ("agent/a1", "VOICE")}
    apply(b, QueueChange("c1", "agent/a1", "VOICE", False, 6_000))
    keys = {(g.queue_id, g.channel) for g in sample("i1", b, 10_000)[0]}
    assert keys == {("q1", "VOICE"), ("q1", "CHAT")}


def test_agents_count_per_queue_and_channel_and_per_routing_profile():
    b = board()
    apply(b, agent("a1", available=(("CHAT", 2),), slots_active=1, on_contact=True))
    apply(b, agent("a2", available=(("VOICE", 1), ("CHAT", 3)), queue_ids=("q1",)))
    apply(b, agent("a3", non_productive=True, staffed=False, available=()))
    queues, profiles = sample("i1", b, 5_000)
    by_key = {(g.queue_id, g.channel): g.agents for g in queues}
    assert by_key[("q1", "VOICE")] == AgentCounts(online=3, available=1, on_contact=1,
                                                  non_productive=1, staffed=2, slots_active=1,
                                                  slots_available=1)
    assert by_key[("q1", "CHAT")].available == 2
    assert by_key[("q1", "CHAT")].slots_available == 5
    (profile,) = profiles
    assert (profile.routing_profile_id, profile.routing_profile_name) == ("rp1", "Sales")
    assert profile.agents.available == 2
    assert profile.agents.slots_available == 6


def test_an_agent_going_offline_counts_nowhere_but_its_queues_and_profile_stay_sampled():
    b = board()
    apply(b, agent("a1"))
    apply(b, agent("a1", at=2_000, online=False, available=()))
    queues, profiles = sample("i1", b, 5_000)
    assert {g.queue_id for g in queues} == {"q1"}
    assert all(g.agents == AgentCounts() for g in queues)
    assert profiles[0].agents == AgentCounts()


def passed_samples(changes: dict[int, list], until: int, refresh_ms: int = 60_000):
    """(instant, queue gauges passed on, profile gauges passed on) of every 5 s sample."""
    b, tracker, out = board(), Tracker({}, refresh_ms), []
    for at in range(0, until + 1, 5_000):
        for change in changes.get(at, []):
            apply(b, change)
        queues, profiles = sample("i1", b, at)
        out.append((at, [q for q in queues if tracker.worth_passing(q)],
                    [p for p in profiles if tracker.worth_passing(p)]))
    return out


def test_a_sample_is_passed_on_when_it_changed_or_its_last_one_is_a_refresh_old():
    one_waits = QueueChange("c1", "q1", "VOICE", True, 0)
    out = passed_samples({0: [agent(at=0), one_waits],
                          20_000: [QueueChange("c2", "q1", "VOICE", True, 20_000)],
                          30_000: [agent(at=30_000, available=())]}, until=95_000)
    queue_at = [(at, q.queue_id, q.channel) for at, queues, _ in out for q in queues]
    assert queue_at == [
        (0, "q1", "CHAT"), (0, "q1", "VOICE"),
        (20_000, "q1", "VOICE"),  # a second contact waits
        (30_000, "q1", "VOICE"),  # the agent has no free voice slot (had no chat one)
        (60_000, "q1", "CHAT"),  # a minute without change: refreshed
        (90_000, "q1", "VOICE"),
    ]
    profile_at = [at for at, _, profiles in out for _ in profiles]
    assert profile_at == [0, 30_000, 90_000]


def test_the_oldest_contact_growing_older_is_no_change_but_another_oldest_is():
    out = passed_samples({0: [QueueChange("c1", "q1", "VOICE", True, 0)],
                          5_000: [QueueChange("c2", "q1", "VOICE", True, 5_000)],
                          # c1 leaves as c3 comes: still two waiting, the oldest is now c2
                          15_000: [QueueChange("c1", "q1", "VOICE", False, 15_000),
                                   QueueChange("c3", "q1", "VOICE", True, 15_000)]},
                         until=25_000)
    passed = [(at, q.contacts_in_queue, q.oldest_contact_age_ms) for at, qs, _ in out for q in qs]
    assert passed == [(0, 1, 0), (5_000, 2, 5_000), (15_000, 2, 10_000)]


def test_a_refresh_of_zero_passes_every_sample():
    out = passed_samples({0: [QueueChange("c1", "q1", "VOICE", True, 0)]}, until=15_000,
                         refresh_ms=0)
    assert [at for at, queues, _ in out for _ in queues] == [0, 5_000, 10_000, 15_000]


def scheduled_samples(changes: dict[int, list], until: int, refresh_ms: int = 60_000,
                      refresh_for_ms: int = 3_600_000):
    """`passed_samples` at the instants `next_sample_at` picks instead of every 5 s one."""
    b, tracker, out = board(), Tracker({}, refresh_ms), []
    pending = sorted(changes)
    at = first_sample_at(pending[0], 5_000)
    while at is not None and at <= until:
        while pending and pending[0] <= at:
            for change in changes[pending.pop(0)]:
                apply(b, change)
        queues, profiles = sample("i1", b, at)
        out.append((at, [q for q in queues if tracker.worth_passing(q)],
                    [p for p in profiles if tracker.worth_passing(p)]))
        last_change = max(t for t in changes if t <= at)
        at = next_sample_at(at, pending[0] if pending else None, last_change, 5_000,
                            refresh_for_ms)
    return out


def rows(out) -> list:
    return [(at, g) for at, queues, profiles in out for g in (*queues, *profiles)]


CHANGES = {0: [agent(at=0), QueueChange("c1", "q1", "VOICE", True, 0)],
           20_000: [QueueChange("c2", "q1", "VOICE", True, 20_000)],
           30_000: [agent(at=30_000, available=())],
           215_000: [QueueChange("c1", "q1", "VOICE", False, 215_000)]}


def test_sampling_within_the_bound_emits_what_sampling_every_period_does():
    assert rows(scheduled_samples(CHANGES, 600_000)) == rows(passed_samples(CHANGES, 600_000))


def test_refresh_rows_stop_once_nothing_changed_for_the_bound_so_a_gap_of_years_costs_no_more():
    years = 3 * 365 * 24 * 3_600_000
    hour = scheduled_samples({**CHANGES, 3_600_000: [agent(at=3_600_000, online=False)]},
                             until=years)
    gap = scheduled_samples({**CHANGES, years: [agent(at=years, online=False)]}, until=years)
    quiet = [at for at, _, _ in gap if 215_000 < at < years]
    assert quiet and max(quiet) - 215_000 <= 3_600_000 + 60_000
    assert len(gap) <= len(hour) + 1
    assert gap[-1][0] == years and gap[-1][1]  # the change after the gap is sampled


def test_samples_follow_the_grid_until_the_bound_then_only_changes():
    assert next_sample_at(5_000, None, 0, 5_000, 3_600_000) == 10_000
    assert next_sample_at(3_600_000, None, 0, 5_000, 3_600_000) is None
    assert next_sample_at(3_600_000, 7_200_001, 0, 5_000, 3_600_000) == 7_205_000


def test_names_are_passed_on_when_first_seen_and_when_renamed_only():
    b = board()
    named = replace(agent(at=1_000), queue_names=(("q1", "Sales"), ("q2", "Support")))
    assert [(n.kind, n.id, n.name, n.at) for n in apply(b, named)] == [
        (ROUTING_PROFILE, "rp1", "Sales", 1_000), (QUEUE, "q1", "Sales", 1_000),
        (QUEUE, "q2", "Support", 1_000)]
    assert apply(b, named) == []  # nothing new
    other = agent(agent_id="a2", at=2_000)  # an agent whose snapshots named no queue
    assert apply(b, other) == []
    renamed = replace(other, queue_names=(("q1", "Sales line"), ("q2", "Support")))
    assert [(n.kind, n.id, n.name, n.at) for n in apply(b, renamed)] == [
        (QUEUE, "q1", "Sales line", 2_000)]
    assert apply(b, QueueChange("c1", "q1", "VOICE", True, 3_000)) == []
