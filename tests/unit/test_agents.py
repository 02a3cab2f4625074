"""The agent activity core: activities and precedence, logins, staleness, work facts."""

from __future__ import annotations

import dataclasses
import itertools
import pickle
from datetime import datetime

import pytest

from jobs.core.agents import (
    CONTACT_STATE_ACTIVITY,
    PRECEDENCE,
    Activity,
    ActivityTransition,
    AgentFacts,
    AgentSettings,
    AgentState,
    AgentWork,
    Step,
    WorkKind,
    agent_facts,
    apply,
    contact_activity,
    deadlines,
    expire,
    snapshot_activity,
    state_size_bytes,
)
from jobs.core.events import (
    AgentContact,
    AgentEvent,
    AgentSnapshot,
    AgentStatus,
    ChannelConcurrency,
    HierarchyGroup,
    QueueRef,
    RoutingProfileInfo,
)

T0 = 1_795_428_000_000
INSTANCE = "aaaaaaaa-bbbb-cccc-dddd-111111111111"
AGENT = "agent-1"
SETTINGS = AgentSettings()
MINUTE = 60_000


# --- builders (shared with test_agents_properties) ---------------------------------------------


def queue(queue_id: str, channels: tuple[str, ...] = ("VOICE", "CHAT")) -> QueueRef:
    return QueueRef(
        queue_id, f"arn:aws:connect:::instance/{INSTANCE}/queue/{queue_id}", queue_id, channels
    )


def profile(
    profile_id: str = "rp-1",
    queue_ids: tuple[str, ...] = ("q-1", "q-2", "q-3"),
    concurrency: tuple[tuple[str, int, int], ...] | None = (("VOICE", 1, 1), ("CHAT", 3, 3)),
    name: str | None = None,
) -> RoutingProfileInfo:
    return RoutingProfileInfo(
        profile_id=profile_id,
        arn=f"arn:aws:connect:::instance/{INSTANCE}/routing-profile/{profile_id}",
        name=name or f"Profile {profile_id}",
        inbound_queues=tuple(queue(q) for q in queue_ids),
        default_outbound_queue=queue(queue_ids[0]) if queue_ids else None,
        concurrency=tuple(ChannelConcurrency(*c) for c in concurrency or ()),
    )


PROFILE = profile()


def status(name: str = "Available", type_: str | None = None, start: int = T0) -> AgentStatus:
    if type_ is None:
        type_ = {"Available": "ROUTABLE", "Offline": "OFFLINE"}.get(name, "CUSTOM")
    return AgentStatus(name, f"arn:status/{name}", start, type_)


def contact(
    contact_id: str,
    state: str,
    since: int = T0,
    channel: str = "VOICE",
    method: str = "INBOUND",
    connected: int | None = None,
    queue_id: str | None = "q-1",
) -> AgentContact:
    return AgentContact(
        contact_id=contact_id,
        initial_contact_id=None,
        channel=channel,
        initiation_method=method,
        state=state,
        state_start_time=since,
        queue=queue(queue_id) if queue_id else None,
        queue_time=None,
        connected_to_agent_time=connected,
    )


def snapshot(
    status_name: str = "Available",
    contacts: tuple[AgentContact, ...] = (),
    routing: RoutingProfileInfo | None = PROFILE,
    status_type: str | None = None,
    groups: tuple[HierarchyGroup, ...] = (),
) -> AgentSnapshot:
    return AgentSnapshot(
        status=status(status_name, status_type),
        next_status=None,
        routing_profile=routing,
        hierarchy_groups=groups,
        contacts=tuple(contacts),
    )


_EVENT_FIELDS = {f.name for f in dataclasses.fields(AgentEvent)}


def event(
    event_type: str,
    at: int,
    current: AgentSnapshot | None = None,
    previous: AgentSnapshot | None = None,
    event_id: str | None = None,
    username: str | None = "jdoe",
) -> AgentEvent:
    """An AgentEvent, whether or not the status is still a constructor argument."""
    values = dict(
        event_id=event_id or f"{event_type}-{at}",
        event_type=event_type,
        event_time=at,
        agent_id=AGENT,
        instance_id=INSTANCE,
        agent_arn=f"arn:aws:connect:us-east-1:123456789012:instance/{INSTANCE}/agent/{AGENT}",
        username=username,
        current=current,
        previous=previous,
    )
    if "status_name" in _EVENT_FIELDS:
        values["status_name"] = current.status.name if current else None
    if "status_type" in _EVENT_FIELDS:
        values["status_type"] = current.status.type if current else None
    return AgentEvent(**values)


def run(events, state: AgentState | None = None, settings: AgentSettings = SETTINGS):
    """Apply events in order: the last step and every output."""
    outputs: list = []
    step = Step(state, (), None, None)
    for item in events:
        step = apply(step.state, item, settings)
        outputs.extend(step.outputs)
    return step, outputs


def of(outputs, kind):
    return [o for o in outputs if isinstance(o, kind)]


def last_facts(outputs) -> AgentFacts:
    return of(outputs, AgentFacts)[-1]


def logged_in(at: int = T0, current: AgentSnapshot | None = None) -> AgentState:
    return apply(None, event("LOGIN", at, current or snapshot())).state


def state_change(at: int, current: AgentSnapshot, state: AgentState, previous=None) -> Step:
    return apply(state, event("STATE_CHANGE", at, current, previous))


# --- contact states and precedence --------------------------------------------------------------


def test_every_contact_state_maps_to_its_documented_activity():
    expected = {
        "ERROR": Activity.ERROR,
        "MISSED": Activity.MISSED,
        "REJECTED": Activity.REJECTED,
        "CONNECTED": Activity.ON_CONTACT,
        "CONNECTED_ONHOLD": Activity.ON_CONTACT,
        "PAUSED": Activity.ON_CONTACT,
        "ENDED": Activity.ACW,
        "CONNECTING": Activity.INCOMING,
        "INCOMING": Activity.INCOMING,
        "PENDING": Activity.INCOMING,
    }
    assert CONTACT_STATE_ACTIVITY == expected
    for state, activity in expected.items():
        assert contact_activity(state, "INBOUND") is activity, state
    for method in ("OUTBOUND", "EXTERNAL_OUTBOUND", "AGENT_REPLY"):
        assert contact_activity("CONNECTING", method) is Activity.ON_CONTACT, method
    for method in ("INBOUND", "TRANSFER", "QUEUE_TRANSFER", "CALLBACK", "API", None):
        assert contact_activity("CONNECTING", method) is Activity.INCOMING, method
    assert contact_activity("SOMETHING_NEW", "INBOUND") is None
    assert contact_activity(None, None) is None


@pytest.mark.parametrize(
    ("status_name", "contacts", "expected"),
    [
        ("Available", (), Activity.AVAILABLE),
        ("Break", (), Activity.NON_PRODUCTIVE),
        ("Offline", (), Activity.OFFLINE),
        ("Available", (contact("v", "CONNECTED"),), Activity.ON_CONTACT),
        ("Available", (contact("v", "CONNECTED_ONHOLD"),), Activity.ON_CONTACT),
        ("Available", (contact("t", "PAUSED", channel="TASK"),), Activity.ON_CONTACT),
        ("Available", (contact("v", "CONNECTING", method="OUTBOUND"),), Activity.ON_CONTACT),
        ("Available", (contact("v", "CONNECTING"),), Activity.INCOMING),
        ("Available", (contact("v", "INCOMING", method="CALLBACK"),), Activity.INCOMING),
        ("Available", (contact("v", "PENDING", method="CALLBACK"),), Activity.INCOMING),
        ("Available", (contact("v", "ENDED"),), Activity.ACW),
        ("Available", (contact("v", "MISSED"),), Activity.MISSED),
        ("Available", (contact("c", "REJECTED", channel="CHAT"),), Activity.REJECTED),
        ("Available", (contact("v", "ERROR"),), Activity.ERROR),
        # a voice call plus chats
        (
            "Available",
            (
                contact("v", "CONNECTED"),
                contact("c1", "ENDED", channel="CHAT"),
                contact("c2", "CONNECTING", channel="CHAT"),
            ),
            Activity.ON_CONTACT,
        ),
        (
            "Available",
            (contact("v", "ENDED"), contact("c1", "CONNECTING", channel="CHAT")),
            Activity.ACW,
        ),
        (
            "Available",
            (contact("v", "CONNECTED"), contact("c1", "MISSED", channel="CHAT")),
            Activity.MISSED,
        ),
        (
            "Available",
            (
                contact("v", "CONNECTED"),
                contact("c1", "REJECTED", channel="CHAT"),
                contact("c2", "ENDED", channel="CHAT"),
            ),
            Activity.REJECTED,
        ),
        (
            "Available",
            (
                contact("v", "MISSED"),
                contact("c1", "REJECTED", channel="CHAT"),
                contact("c2", "ERROR", channel="CHAT"),
            ),
            Activity.ERROR,
        ),
        (
            "Available",
            (
                contact("v", "CONNECTED_ONHOLD"),
                contact("c1", "PAUSED", channel="TASK"),
                contact("c2", "PENDING", channel="CHAT"),
            ),
            Activity.ON_CONTACT,
        ),
        # a custom status loses to any contact, Offline wins over everything
        ("Lunch", (contact("c1", "CONNECTED", channel="CHAT"),), Activity.ON_CONTACT),
        ("Lunch", (contact("c1", "CONNECTING", channel="CHAT"),), Activity.INCOMING),
        ("Offline", (contact("v", "CONNECTED"),), Activity.OFFLINE),
    ],
)
def test_activity_precedence(status_name, contacts, expected):
    current = snapshot(status_name, contacts)
    assert snapshot_activity(current) is expected
    step = apply(None, event("STATE_CHANGE", T0, current))
    assert step.state.activity is expected
    assert last_facts(step.outputs).activity is expected
    assert snapshot_activity(current, logged_out=True) is Activity.OFFLINE


def test_full_precedence_table_for_every_pair_of_contact_states():
    states = list(CONTACT_STATE_ACTIVITY)
    order = list(PRECEDENCE)
    assert order == [
        Activity.ERROR,
        Activity.MISSED,
        Activity.REJECTED,
        Activity.ON_CONTACT,
        Activity.ACW,
        Activity.INCOMING,
        Activity.NON_PRODUCTIVE,
        Activity.AVAILABLE,
    ]
    for status_name, status_activity in (
        ("Available", Activity.AVAILABLE),
        ("Training", Activity.NON_PRODUCTIVE),
    ):
        for voice_state, chat_state in itertools.product(states, states):
            contacts = (contact("v", voice_state), contact("c", chat_state, channel="CHAT"))
            candidates = [
                CONTACT_STATE_ACTIVITY[voice_state],
                CONTACT_STATE_ACTIVITY[chat_state],
                status_activity,
            ]
            expected = min(candidates, key=order.index)
            got = snapshot_activity(snapshot(status_name, contacts))
            assert got is expected, (status_name, voice_state, chat_state)


def test_status_type_is_derived_from_the_name_when_connect_omits_it():
    assert snapshot_activity(snapshot("Available", status_type="")) is Activity.AVAILABLE
    assert snapshot_activity(snapshot("Coffee", status_type="")) is Activity.NON_PRODUCTIVE
    assert snapshot_activity(snapshot("Offline", status_type="")) is Activity.OFFLINE
    # the declared type wins over the name
    assert snapshot_activity(snapshot("Available", status_type="CUSTOM")) is (
        Activity.NON_PRODUCTIVE
    )


# --- what the wallboard shows -------------------------------------------------------------------


def test_available_status_on_a_call_is_on_contact_not_available():
    state = logged_in()
    on_call = snapshot(
        "Available",
        (contact("v", "CONNECTED", T0 + 5_000, connected=T0 + 5_000),),
        routing=profile(concurrency=(("VOICE", 1, 0), ("CHAT", 3, 0))),
    )
    step = state_change(T0 + 5_000, on_call, state)
    facts = last_facts(step.outputs)
    assert facts.status_name == "Available"
    assert facts.activity is Activity.ON_CONTACT
    assert (facts.online, facts.on_contact, facts.staffed) == (True, True, True)
    assert (facts.available, facts.slots_available, facts.slots_active) == ((), 0, 1)
    assert of(step.outputs, ActivityTransition) == [
        ActivityTransition(
            AGENT, INSTANCE, Activity.AVAILABLE, Activity.ON_CONTACT, T0 + 5_000, 5_000
        )
    ]


def test_available_per_channel_uses_connects_concurrency():
    state = logged_in()
    assert agent_facts(state, T0).available == (("VOICE", 1), ("CHAT", 3))
    one_chat = snapshot(
        "Available",
        (contact("c1", "CONNECTED", T0 + 1, channel="CHAT", connected=T0 + 1),),
        routing=profile(concurrency=(("VOICE", 1, 0), ("CHAT", 3, 2))),
    )
    facts = last_facts(state_change(T0 + 1, one_chat, state).outputs)
    assert facts.available == (("CHAT", 2),)
    assert (facts.on_contact, facts.slots_active, facts.slots_available) == (True, 1, 2)
    assert facts.activity is Activity.ON_CONTACT


def test_slots_are_derived_when_the_snapshot_has_no_concurrency():
    bare = profile(concurrency=None)
    state = logged_in(current=snapshot(routing=bare))
    facts = agent_facts(state, T0)
    assert facts.channels == ("CHAT", "VOICE")
    assert facts.available == (("CHAT", 1), ("VOICE", 1))
    on_chat = snapshot(
        "Available", (contact("c1", "CONNECTED", T0 + 1, channel="CHAT"),), routing=bare
    )
    facts = last_facts(state_change(T0 + 1, on_chat, state).outputs)
    assert (facts.available, facts.slots_active) == ((), 1)  # voice blocked, chat full
    on_voice = snapshot("Available", (contact("v", "CONNECTED", T0 + 1),), routing=bare)
    assert agent_facts(state_change(T0 + 1, on_voice, state).state, T0 + 1).available == ()


def test_missed_or_error_contact_makes_the_agent_unavailable():
    state = logged_in()
    for bad in ("MISSED", "ERROR", "REJECTED"):
        current = snapshot("Available", (contact("c1", bad, T0 + 1, channel="CHAT"),))
        facts = agent_facts(state_change(T0 + 1, current, state).state, T0 + 1)
        assert facts.available == () and facts.slots_available == 0, bad
        assert facts.in_error is (bad == "ERROR")
        assert facts.online and facts.staffed


def test_acw_flags():
    state = logged_in()
    current = snapshot("Available", (contact("v", "ENDED", T0 + 1, connected=T0),))
    facts = agent_facts(state_change(T0 + 1, current, state).state, T0 + 1)
    assert (facts.activity, facts.in_acw, facts.on_contact) == (Activity.ACW, True, True)


def test_custom_status_is_non_productive_and_not_staffed():
    state = logged_in()
    step = state_change(T0 + MINUTE, snapshot("Break"), state)
    facts = last_facts(step.outputs)
    assert (facts.activity, facts.online, facts.non_productive, facts.staffed) == (
        Activity.NON_PRODUCTIVE,
        True,
        True,
        False,
    )
    assert facts.available == () and facts.status_name == "Break"
    # on a contact while in a custom status: on contact and non-productive at once
    chat = contact("c1", "CONNECTED", T0 + 2 * MINUTE, channel="CHAT", connected=T0 + 2 * MINUTE)
    step = state_change(T0 + 2 * MINUTE, snapshot("Break", (chat,)), step.state)
    facts = last_facts(step.outputs)
    assert (facts.activity, facts.on_contact, facts.non_productive, facts.staffed) == (
        Activity.ON_CONTACT,
        True,
        True,
        False,
    )


def test_facts_are_emitted_only_when_they_change():
    state = logged_in()
    talking = (contact("v", "CONNECTED", T0 + 1, connected=T0 + 1),)
    step = state_change(T0 + 1, snapshot("Available", talking), state)
    assert of(step.outputs, AgentFacts)
    held = (contact("v", "CONNECTED_ONHOLD", T0 + 2, connected=T0 + 1),)
    step = state_change(T0 + 2, snapshot("Available", held), step.state)
    assert step.outputs == ()  # still on contact, same slots: nothing for the gauges
    step = apply(step.state, event("HEART_BEAT", T0 + 3, snapshot("Available", held)))
    assert step.outputs == ()


def test_queue_names_come_from_the_profile_and_the_contacts_and_a_rename_is_news():
    login = apply(None, event("LOGIN", T0, snapshot()))
    assert last_facts(login.outputs).queue_names == (("q-1", "q-1"), ("q-2", "q-2"), ("q-3", "q-3"))
    other = dataclasses.replace(contact("v", "CONNECTED", T0 + 1, connected=T0 + 1),
                                queue=dataclasses.replace(queue("q-9"), name="Retention"))
    own = dataclasses.replace(contact("w", "CONNECTED", T0 + 1, channel="CHAT"),
                              queue=QueueRef("agent/a", "arn:queue/agent/a", None))
    step = state_change(T0 + 1, snapshot("Available", (other, own)), login.state)
    assert dict(last_facts(step.outputs).queue_names) == {
        "q-1": "q-1", "q-2": "q-2", "q-3": "q-3", "q-9": "Retention"}  # agent queues: no name
    step = state_change(T0 + 2, snapshot(), step.state)  # the contacts end: names stay known
    assert dict(last_facts(step.outputs).queue_names)["q-9"] == "Retention"
    renamed = dataclasses.replace(PROFILE, inbound_queues=(
        dataclasses.replace(queue("q-1"), name="Sales line"), queue("q-2"), queue("q-3")))
    step = state_change(T0 + 3, snapshot(routing=renamed), step.state)
    assert dict(last_facts(step.outputs).queue_names)["q-1"] == "Sales line"
    step = state_change(T0 + 4, snapshot(routing=renamed), step.state)
    assert step.outputs == ()  # the same names again: nothing for the gauges


# --- login, logout, heartbeats, staleness -------------------------------------------------------


def test_login_and_logout():
    step = apply(None, event("LOGIN", T0, snapshot()))
    assert of(step.outputs, ActivityTransition) == [
        ActivityTransition(AGENT, INSTANCE, None, Activity.AVAILABLE, T0, None)
    ]
    facts = last_facts(step.outputs)
    assert (facts.online, facts.staffed, facts.activity, facts.stale) == (
        True,
        True,
        Activity.AVAILABLE,
        False,
    )
    assert (facts.agent_username, facts.routing_profile_id, facts.queue_ids) == (
        "jdoe",
        "rp-1",
        ("q-1", "q-2", "q-3"),
    )
    assert (step.wake_at, step.clear_at) == (T0 + SETTINGS.stale_after_ms, None)

    logout = apply(step.state, event("LOGOUT", T0 + 30 * MINUTE, snapshot()))
    assert of(logout.outputs, ActivityTransition) == [
        ActivityTransition(
            AGENT, INSTANCE, Activity.AVAILABLE, Activity.OFFLINE, T0 + 30 * MINUTE, 30 * MINUTE
        )
    ]
    assert of(logout.outputs, AgentWork) == [
        AgentWork(
            AGENT,
            INSTANCE,
            WorkKind.ACTIVITY_TIME,
            None,
            None,
            None,
            T0 + 30 * MINUTE,
            30 * MINUTE,
            activity=Activity.AVAILABLE,
        )
    ]
    facts = last_facts(logout.outputs)
    assert (facts.online, facts.staffed, facts.activity, facts.available) == (
        False,
        False,
        Activity.OFFLINE,
        (),
    )
    assert logout.wake_at is None
    assert logout.clear_at == T0 + 30 * MINUTE + SETTINGS.forget_after_ms

    login_again = apply(logout.state, event("LOGIN", T0 + 40 * MINUTE, snapshot()))
    assert of(login_again.outputs, ActivityTransition)[0].time_in_previous_ms == 10 * MINUTE
    assert last_facts(login_again.outputs).online


def test_logout_ends_the_agents_part_of_open_contacts():
    state = logged_in()
    busy = snapshot(
        "Available",
        (
            contact("v", "CONNECTED", T0 + 1_000, connected=T0 + 1_000),
            contact("c", "ENDED", T0 + 2_000, channel="CHAT", connected=T0 + 500),
        ),
    )
    state = state_change(T0 + 2_000, busy, state).state
    logout = apply(state, event("LOGOUT", T0 + 10_000, snapshot()))
    work = {(w.kind, w.contact_id): w.duration_ms for w in of(logout.outputs, AgentWork)}
    assert work == {
        (WorkKind.HANDLED, "v"): 9_000,
        (WorkKind.ACW, "c"): 8_000,
        (WorkKind.ACTIVITY_TIME, None): 8_000,
    }
    assert logout.state.contacts == ()


def test_heartbeats_after_logout_do_not_bring_the_agent_back():
    state = logged_in()
    logout = apply(state, event("LOGOUT", T0 + MINUTE, snapshot()))
    state = logout.state
    # heartbeats keep coming for up to an hour, still showing the last routable status
    for minute in range(3, 60, 2):
        step = apply(state, event("HEART_BEAT", T0 + minute * MINUTE, snapshot("Available")))
        assert step.outputs == ()
        assert step.clear_at == logout.clear_at and step.wake_at is None
        state = step.state
    assert not agent_facts(state, T0 + 60 * MINUTE).online
    # a configuration change while logged out shows an Offline status: still logged out
    moved = snapshot("Offline", routing=profile("rp-2"))
    step = apply(state, event("STATE_CHANGE", T0 + 61 * MINUTE, moved))
    facts = last_facts(step.outputs)
    assert (facts.online, facts.routing_profile_id) == (False, "rp-2")
    step = apply(step.state, event("HEART_BEAT", T0 + 62 * MINUTE, snapshot("Available")))
    assert step.outputs == ()
    # the state is recognised until the grace period after the LOGOUT is over
    assert expire(step.state, logout.clear_at - 1).state is not None
    assert expire(step.state, logout.clear_at) == Step(None, (), None, None)


@pytest.mark.parametrize("event_type", ["LOGIN", "STATE_CHANGE"])
def test_login_or_a_state_change_after_logout_brings_the_agent_back(event_type):
    state = apply(logged_in(), event("LOGOUT", T0 + MINUTE, snapshot())).state
    step = apply(state, event(event_type, T0 + 5 * MINUTE, snapshot("Available")))
    facts = last_facts(step.outputs)
    assert (facts.online, facts.activity) == (True, Activity.AVAILABLE)
    assert step.wake_at == T0 + 5 * MINUTE + SETTINGS.stale_after_ms and step.clear_at is None


def test_a_fresh_state_trusts_a_heartbeat():
    """Agents logged in before the job started show up with their next heartbeat."""
    step = apply(None, event("HEART_BEAT", T0, snapshot("Available")))
    assert last_facts(step.outputs).online


def test_silent_agent_goes_stale_then_comes_back():
    state = logged_in()
    wake_at, clear_at = deadlines(state, SETTINGS)
    assert (wake_at, clear_at) == (T0 + 360_000, None)
    assert expire(state, wake_at - 1) == Step(state, (), wake_at, None)
    stale = expire(state, wake_at + 5_000)  # a timer may fire late: facts are at the deadline
    assert of(stale.outputs, ActivityTransition) == [
        ActivityTransition(AGENT, INSTANCE, Activity.AVAILABLE, Activity.OFFLINE, wake_at, 360_000)
    ]
    facts = last_facts(stale.outputs)
    assert (facts.stale, facts.online, facts.staffed, facts.activity, facts.at) == (
        True,
        False,
        False,
        Activity.OFFLINE,
        wake_at,
    )
    assert (stale.wake_at, stale.clear_at) == (None, T0 + SETTINGS.forget_after_ms)
    assert expire(stale.state, wake_at + 10_000).outputs == ()  # no second report

    back = apply(stale.state, event("HEART_BEAT", T0 + 8 * MINUTE, snapshot("Available")))
    facts = last_facts(back.outputs)
    assert (facts.stale, facts.online, facts.activity) == (False, True, Activity.AVAILABLE)
    assert of(back.outputs, ActivityTransition)[0].time_in_previous_ms == 8 * MINUTE - 360_000
    assert back.wake_at == T0 + 8 * MINUTE + 360_000


def test_heartbeats_keep_an_agent_fresh_and_a_silent_one_is_forgotten():
    state = logged_in()
    for beat in range(1, 6):
        step = apply(state, event("HEART_BEAT", T0 + beat * 2 * MINUTE, snapshot()))
        assert step.outputs == () and step.wake_at == T0 + beat * 2 * MINUTE + 360_000
        state = step.state
    stale = expire(state, T0 + 10 * MINUTE + 360_000).state
    assert stale.stale
    assert expire(stale, T0 + 10 * MINUTE + SETTINGS.forget_after_ms).state is None


def test_settings_are_configurable_and_validated():
    quick = AgentSettings(stale_after_ms=1_000, forget_after_ms=5_000, remembered_event_ids=2)
    state = apply(None, event("LOGIN", T0, snapshot()), quick).state
    assert expire(state, T0 + 1_000, quick).state.stale
    with pytest.raises(ValueError, match="stale_after_ms"):
        AgentSettings(stale_after_ms=0)


# --- configuration changes ----------------------------------------------------------------------


def test_routing_profile_change_moves_the_agent_from_that_moment():
    state = logged_in()
    groups = (
        HierarchyGroup(1, "g-site", "arn:g1", "Site"),
        HierarchyGroup(2, "g-team", "arn:g2", "Team"),
    )
    new_profile = profile("rp-2", ("q-9", "q-4"), (("CHAT", 5, 5),), name="Chat only")
    step = state_change(
        T0 + 7 * MINUTE, snapshot("Available", routing=new_profile, groups=groups), state
    )
    assert of(step.outputs, ActivityTransition) == []
    facts = last_facts(step.outputs)
    assert (
        facts.routing_profile_id,
        facts.routing_profile_name,
        facts.queue_ids,
        facts.channels,
        facts.available,
        facts.hierarchy_group_ids,
        facts.at,
    ) == (
        "rp-2",
        "Chat only",
        ("q-4", "q-9"),
        ("CHAT",),
        (("CHAT", 5),),
        ("g-site", "g-team"),
        T0 + 7 * MINUTE,
    )


def test_a_snapshot_without_status_or_profile_keeps_what_is_known():
    state = logged_in()
    blank = AgentSnapshot(AgentStatus(None, None, None, None), None, None, (), ())
    step = apply(state, event("HEART_BEAT", T0 + MINUTE, blank))
    assert step.outputs == ()
    assert (step.state.status_type, step.state.profile_id) == ("ROUTABLE", "rp-1")


# --- work facts ---------------------------------------------------------------------------------


def test_missed_contact():
    state = logged_in()
    ringing = snapshot("Available", (contact("c-1", "CONNECTING", T0 + 10_000),))
    step = state_change(T0 + 10_000, ringing, state)
    assert step.state.activity is Activity.INCOMING
    missed = snapshot("Available", (contact("c-1", "MISSED", T0 + 25_000),))
    step = state_change(T0 + 25_000, missed, step.state, previous=ringing)
    assert of(step.outputs, AgentWork)[0] == AgentWork(
        AGENT,
        INSTANCE,
        WorkKind.MISSED,
        "c-1",
        "VOICE",
        "q-1",
        T0 + 25_000,
        15_000,
        initiation_method="INBOUND",
    )
    facts = last_facts(step.outputs)
    assert (facts.activity, facts.available, facts.on_contact) == (Activity.MISSED, (), False)
    # the same MISSED snapshot again (a heartbeat) does not count it twice; clearing it does not
    # count as handled nor as ACW
    step = apply(step.state, event("HEART_BEAT", T0 + 30_000, missed))
    assert of(step.outputs, AgentWork) == []
    step = state_change(T0 + 40_000, snapshot("Available"), step.state, previous=missed)
    assert [w.kind for w in of(step.outputs, AgentWork)] == [WorkKind.ACTIVITY_TIME]
    assert step.state.activity is Activity.AVAILABLE


def test_rejected_chat():
    state = logged_in()
    offered = snapshot("Available", (contact("c-1", "CONNECTING", T0 + 1_000, channel="CHAT"),))
    step = state_change(T0 + 1_000, offered, state)
    rejected = snapshot("Available", (contact("c-1", "REJECTED", T0 + 4_000, channel="CHAT"),))
    step = state_change(T0 + 4_000, rejected, step.state, previous=offered)
    assert [(w.kind, w.duration_ms) for w in of(step.outputs, AgentWork)][0] == (
        WorkKind.REJECTED,
        3_000,
    )


def _iso(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def test_acw_example_from_the_aws_documentation():
    """Determine the agent's ACW time: ENDED at 18:55:27.017, removed at 18:55:32.022."""
    connected = _iso("2019-05-25T18:55:21.011Z")
    ended_at = _iso("2019-05-25T18:55:27.017Z")
    left_at = _iso("2019-05-25T18:55:32.022Z")
    basic = profile(
        "routing-profile-ARN",
        ("queue-ARN-for-BasicQueue", "queue-ARN-for-PrimaryQueue"),
        None,
        name="Basic Routing Profile",
    )

    def call(state: str, since: int) -> AgentContact:
        return contact(
            "ContactId-1",
            state,
            since,
            method="OUTBOUND",
            connected=connected,
            queue_id="queue-ARN-for-BasicQueue",
        )

    talking = snapshot("Available", (call("CONNECTED", connected),), routing=basic)
    in_acw = snapshot("Available", (call("ENDED", ended_at),), routing=basic)
    done = snapshot("Available", (), routing=basic)
    start = apply(None, event("STATE_CHANGE", connected, talking))
    first = apply(start.state, event("STATE_CHANGE", ended_at, in_acw, talking, "EventId-1"))
    second = apply(
        first.state,
        event("STATE_CHANGE", left_at, done, in_acw, "477f2c4f-cd1a-4785-b1a8-97023dc1229d"),
    )
    assert first.state.activity is Activity.ACW
    assert of(first.outputs, AgentWork)[0] == AgentWork(
        AGENT,
        INSTANCE,
        WorkKind.HANDLED,
        "ContactId-1",
        "VOICE",
        "queue-ARN-for-BasicQueue",
        ended_at,
        6_006,
        initiation_method="OUTBOUND",
    )
    acw = [w for w in of(second.outputs, AgentWork) if w.kind is WorkKind.ACW]
    assert acw == [
        AgentWork(
            AGENT,
            INSTANCE,
            WorkKind.ACW,
            "ContactId-1",
            "VOICE",
            "queue-ARN-for-BasicQueue",
            left_at,
            5_005,
            initiation_method="OUTBOUND",
        )
    ]
    assert second.state.activity is Activity.AVAILABLE
    assert of(second.outputs, ActivityTransition) == [
        ActivityTransition(AGENT, INSTANCE, Activity.ACW, Activity.AVAILABLE, left_at, 5_005)
    ]

    # the same two records seen by a job that starts at the first of them
    fresh = run(
        [
            event("STATE_CHANGE", ended_at, in_acw, talking, "EventId-1"),
            event("STATE_CHANGE", left_at, done, in_acw, "e-2"),
        ]
    )[1]
    assert [
        (w.kind, w.duration_ms)
        for w in of(fresh, AgentWork)
        if w.kind is not WorkKind.ACTIVITY_TIME
    ] == [(WorkKind.HANDLED, 6_006), (WorkKind.ACW, 5_005)]
    # ... at the second only: the previous snapshot still tells when ACW started
    alone = apply(None, event("STATE_CHANGE", left_at, done, in_acw, "e-2")).outputs
    assert [(w.kind, w.duration_ms) for w in of(alone, AgentWork)] == [
        (WorkKind.HANDLED, 6_006),
        (WorkKind.ACW, 5_005),
    ]
    # ... and when the removing record has no previous snapshot, our state remembers the ENDED
    no_previous = apply(first.state, event("STATE_CHANGE", left_at, done, None, "e-2")).outputs
    assert [(w.kind, w.duration_ms) for w in of(no_previous, AgentWork)][0] == (WorkKind.ACW, 5_005)


def test_handled_without_acw_and_aht_parts_per_contact():
    state = logged_in()
    chat = contact("c-1", "CONNECTED", T0 + 1_000, channel="CHAT", connected=T0 + 1_000)
    held = contact("c-1", "CONNECTED_ONHOLD", T0 + 5_000, channel="CHAT", connected=T0 + 1_000)
    talking, on_hold = snapshot("Available", (chat,)), snapshot("Available", (held,))
    _, outputs = run(
        [
            event("STATE_CHANGE", T0 + 1_000, talking, event_id="a"),
            event("STATE_CHANGE", T0 + 5_000, on_hold, talking, event_id="b"),
            event("STATE_CHANGE", T0 + 9_000, snapshot(), on_hold, event_id="c"),
        ],
        state,
    )
    handled = [w for w in of(outputs, AgentWork) if w.kind is WorkKind.HANDLED]
    assert [(w.contact_id, w.at, w.duration_ms) for w in handled] == [("c-1", T0 + 9_000, 8_000)]
    assert not [w for w in of(outputs, AgentWork) if w.kind is WorkKind.ACW]


def test_each_contact_is_counted_once():
    state = logged_in()
    ended = snapshot("Available", (contact("v", "ENDED", T0 + 3_000, connected=T0 + 1_000),))
    _, outputs = run(
        [
            event("STATE_CHANGE", T0 + 3_000, ended, event_id="a"),
            event("HEART_BEAT", T0 + 4_000, ended, ended, event_id="b"),
            event("STATE_CHANGE", T0 + 6_000, snapshot(), ended, event_id="c"),
        ],
        state,
    )
    kinds = [w.kind for w in of(outputs, AgentWork) if w.contact_id == "v"]
    assert kinds == [WorkKind.HANDLED, WorkKind.ACW]


def test_activity_times_tile_the_shift():
    state = logged_in()
    ring = snapshot("Available", (contact("v", "CONNECTING", T0 + 10_000),))
    talk = snapshot("Available", (contact("v", "CONNECTED", T0 + 12_000, connected=T0 + 12_000),))
    acw = snapshot("Available", (contact("v", "ENDED", T0 + 70_000, connected=T0 + 12_000),))
    _, outputs = run(
        [
            event("STATE_CHANGE", T0 + 10_000, ring),
            event("STATE_CHANGE", T0 + 12_000, talk, ring),
            event("STATE_CHANGE", T0 + 70_000, acw, talk),
            event("STATE_CHANGE", T0 + 90_000, snapshot(), acw),
            event("STATE_CHANGE", T0 + 95_000, snapshot("Break"), snapshot()),
            event("LOGOUT", T0 + 120_000, snapshot("Break")),
        ],
        state,
    )
    times = [
        (w.activity, w.duration_ms)
        for w in of(outputs, AgentWork)
        if w.kind is WorkKind.ACTIVITY_TIME
    ]
    assert times == [
        (Activity.AVAILABLE, 10_000),
        (Activity.INCOMING, 2_000),
        (Activity.ON_CONTACT, 58_000),
        (Activity.ACW, 20_000),
        (Activity.AVAILABLE, 5_000),
        (Activity.NON_PRODUCTIVE, 25_000),
    ]
    assert sum(d for _, d in times) == 120_000
    work = {
        w.kind: w.duration_ms
        for w in of(outputs, AgentWork)
        if w.kind is not WorkKind.ACTIVITY_TIME
    }
    assert work == {WorkKind.HANDLED: 58_000, WorkKind.ACW: 20_000}


# --- order and duplicates -----------------------------------------------------------------------


def test_duplicate_event_ids_are_dropped():
    state = logged_in()
    talking = snapshot("Available", (contact("v", "CONNECTED", T0 + 1_000, connected=T0 + 1_000),))
    first = state_change(T0 + 1_000, talking, state)
    again = apply(first.state, event("STATE_CHANGE", T0 + 1_000, talking))
    assert again == Step(first.state, (), first.wake_at, first.clear_at)
    # another event in the same millisecond is not a duplicate
    other = apply(
        first.state, event("STATE_CHANGE", T0 + 1_000, snapshot(), talking, event_id="other")
    )
    assert other.state.activity is Activity.AVAILABLE


def test_older_snapshot_is_ignored():
    state = logged_in()
    talking = snapshot("Available", (contact("v", "CONNECTED", T0 + 5_000, connected=T0 + 5_000),))
    now = state_change(T0 + 5_000, talking, state).state
    late = apply(now, event("STATE_CHANGE", T0 + 4_000, snapshot("Break"), event_id="late"))
    assert late == Step(now, (), T0 + 5_000 + 360_000, None)
    replayed_login = apply(now, event("LOGIN", T0, snapshot()))
    assert replayed_login.state is now and replayed_login.outputs == ()


# --- state --------------------------------------------------------------------------------------


def typical_agent() -> AgentState:
    """Logged in, a routing profile of 3 queues and 2 channels, one voice call, 2 groups."""
    queue_ids = tuple(f"{n}0e8f5c2-7d3a-4b1e-9f6a-2c4d8e1b3a5f" for n in "abc")
    rp = profile(
        "5f1c9e3a-8b2d-4c6e-a7f0-1d3b5e7c9a2f",
        queue_ids,
        (("VOICE", 1, 0), ("CHAT", 3, 0)),
        name="Sales and Support",
    )
    groups = (
        HierarchyGroup(1, "1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9", "arn:g1", "Site"),
        HierarchyGroup(2, "9f8e7d6c-5b4a-4392-8170-f6e5d4c3b2a1", "arn:g2", "Team"),
    )
    call = contact(
        "7c6b5a49-3827-4165-9f0e-d1c2b3a4f5e6",
        "CONNECTED",
        T0 + 65_000,
        connected=T0 + 65_000,
        queue_id=queue_ids[0],
    )
    login = event(
        "LOGIN",
        T0,
        snapshot(routing=rp, groups=groups),
        event_id="3d9e2f1a-6b7c-4d8e-9f0a-1b2c3d4e5f60",
    )
    talk = event(
        "STATE_CHANGE",
        T0 + 65_000,
        snapshot("Available", (call,), rp, groups=groups),
        event_id="477f2c4f-cd1a-4785-b1a8-97023dc1229d",
    )
    return run([login, talk])[0].state


def test_state_is_compact_picklable_and_bounded():
    state = typical_agent()
    assert pickle.loads(pickle.dumps(state, protocol=5)) == state
    size = state_size_bytes(state)
    assert size == len(pickle.dumps(state, protocol=5))
    assert 0 < size < 1_024
    # a long shift of heartbeats, up to 40 in one millisecond, does not grow the state
    call = state.contacts[0]
    talking = contact(
        call.contact_id, "CONNECTED", T0 + 65_000, connected=T0 + 65_000, queue_id=call.queue_id
    )
    current = snapshot("Available", (talking,), routing=None)
    for n in range(1, 201):
        at = T0 + 65_000 + (n // 40) * 2 * MINUTE
        event_id = f"{n:08d}-0000-4000-8000-000000000000"
        state = apply(state, event("HEART_BEAT", at, current, event_id=event_id)).state
        assert len(state.recent_event_ids) <= SETTINGS.remembered_event_ids
    assert len(state.recent_event_ids) == 1
    assert state_size_bytes(state) <= size + 8


def test_facts_carry_the_identity_of_the_agent():
    state = typical_agent()
    facts = agent_facts(state, T0 + 70_000)
    assert (facts.agent_id, facts.instance_id, facts.agent_username, facts.at) == (
        AGENT,
        INSTANCE,
        "jdoe",
        T0 + 70_000,
    )
    assert len(facts.queue_ids) == 3 and len(facts.hierarchy_group_ids) == 2
