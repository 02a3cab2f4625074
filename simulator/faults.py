"""Delivery faults, injected between the simulation and its outputs, each recorded in the truth.

Per record, independently (a separate random stream, so the simulation itself and its truth
metrics are the same with or without faults):

* `drop`: the record is never sent;
* `casing`: the record is sent with keys (and a few values) in another casing - still valid,
  the parser reads keys case-insensitively;
* `reorder`: the record is sent up to `reorder_ms` late, after records with later times (an
  agent record holds back that agent's later records: Kinesis keeps a partition key's order);
* `duplicates`: a second, identical copy is sent up to a second after the first;
* `malformed`: a corrupted copy is sent beside the record (not JSON, not UTF-8, or missing a
  key every reader needs) - the record itself still arrives, so only a dead letter is added.
"""

from __future__ import annotations

import dataclasses
import hashlib
import heapq
import itertools
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import orjson

from simulator.centre import AGENT_FEED, Emitted
from simulator.truth import TruthSink

MALFORMED_VARIANTS = ("not_json", "not_utf8", "missing_key")
DUPLICATE_DELAY_MS = 1_000


@dataclass(frozen=True)
class FaultSettings:
    duplicates: float = 0.0
    reorder: float = 0.0
    reorder_ms: int = 5_000
    drop: float = 0.0
    malformed: float = 0.0
    casing: float = 0.0

    def __post_init__(self):
        for name in ("duplicates", "reorder", "drop", "malformed", "casing"):
            rate = getattr(self, name)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"fault rate {name}={rate} is not between 0 and 1")
        if self.reorder_ms < 0:
            raise ValueError(f"reorder-ms={self.reorder_ms} must not be negative")

    @property
    def any(self) -> bool:
        return any((self.duplicates, self.reorder, self.drop, self.malformed, self.casing))

    @classmethod
    def parse(cls, text: str | None) -> FaultSettings:
        """`duplicates=0.01,reorder=0.02,reorder-ms=5000,drop=0.001,malformed=0.001,casing=0.01`"""
        if not text:
            return cls()
        names = {"duplicates": "duplicates", "duplicate": "duplicates", "reorder": "reorder",
                 "reorder-ms": "reorder_ms", "reorder_ms": "reorder_ms", "drop": "drop",
                 "drops": "drop", "malformed": "malformed", "casing": "casing"}
        values: dict = {}
        for part in text.split(","):
            part = part.strip()
            if not part:
                continue
            key, sep, value = part.partition("=")
            name = names.get(key.strip().lower())
            if not sep or name is None:
                raise ValueError(
                    f"bad fault {part!r}: use name=value with names {', '.join(sorted(set(names)))}"
                )
            try:
                values[name] = int(value) if name == "reorder_ms" else float(value)
            except ValueError:
                raise ValueError(f"bad fault value {part!r}: not a number") from None
        return cls(**values)


def event_identity(record: dict) -> tuple[str | None, str | None, str | None]:
    """(event id, event type, event time text) of a record as the simulator built it."""
    if "AgentARN" in record:
        return record.get("EventId"), record.get("EventType"), record.get("EventTimestamp")
    detail = record.get("detail") or {}
    return record.get("id"), detail.get("eventType"), record.get("time")


class FaultInjector:
    """Wraps a time-ordered stream of records; yields them as delivered, faults included."""

    def __init__(self, settings: FaultSettings, seed: int | str, truth: TruthSink | None = None):
        self.settings = settings
        self._random = random.Random(f"{seed}/faults")
        self._truth = truth
        self._order = itertools.count()
        self._pending: list = []
        self.index = 0
        self.feed_index: dict[str, int] = {}
        self.counts = {name: 0 for name in ("drop", "casing", "reorder", "duplicate", "malformed")}
        self._agent_floor: dict[str, int] = {}

    def run(self, events: Iterable[Emitted]) -> Iterator[Emitted]:
        settings = self.settings
        rng = self._random
        pending = self._pending
        for event in events:
            draws = [rng.random() for _ in range(5)]
            if draws[0] < settings.drop:
                self._fault("drop", event, None, event_identity(event.record))
                continue
            identity = event_identity(event.record)
            original = event
            faults: list[dict] = []
            if draws[1] < settings.casing:
                event = dataclasses.replace(event, record=recase(event.record, rng))
                faults.append({"fault": "casing"})
            delay = 0
            if draws[2] < settings.reorder and settings.reorder_ms > 0:
                delay = rng.randint(1, settings.reorder_ms)
                faults.append({"fault": "reorder", "delay_ms": delay})
            delivery = event.at + delay
            if event.feed == AGENT_FEED:
                # Kinesis keeps a partition key's order: a late agent record holds back that
                # agent's later ones.
                delivery = max(delivery, self._agent_floor.get(event.partition_key, delivery))
                self._agent_floor[event.partition_key] = delivery
            self._push(event, delivery, faults, identity)
            if draws[3] < settings.duplicates:
                again = delivery + rng.randint(0, DUPLICATE_DELAY_MS)
                self._push(event, again, [{"fault": "duplicate", "delay_ms": again - event.at}],
                           identity)
            if draws[4] < settings.malformed:
                variant = rng.choice(MALFORMED_VARIANTS)
                data = corrupt(original, variant, rng)
                broken = dataclasses.replace(event, data=data)
                self._push(broken, delivery,
                           [{"fault": "malformed", "variant": variant,
                             "sha256": hashlib.sha256(data).hexdigest()}], identity)
            while pending and pending[0][0] <= event.at:
                yield self._release()
        while pending:
            yield self._release()

    def _push(self, event: Emitted, delivery: int, faults: list[dict], identity) -> None:
        heapq.heappush(self._pending, (delivery, next(self._order), event, faults, identity))

    def _release(self) -> Emitted:
        delivery, _, event, faults, identity = heapq.heappop(self._pending)
        index = self.index
        self.index += 1
        feed_index = self.feed_index.get(event.feed, 0)
        self.feed_index[event.feed] = feed_index + 1
        for fault in faults:
            self._fault(fault.pop("fault"), event, (index, feed_index), identity, **fault)
        if delivery != event.at:
            event = dataclasses.replace(event, at=delivery)
        return event

    def _fault(self, kind: str, event: Emitted, position, identity, **details) -> None:
        self.counts[kind] += 1
        if self._truth is None:
            return
        event_id, event_type, event_time = identity
        line = {
            "kind": "fault",
            "fault": kind,
            "feed": event.feed,
            "event_id": event_id,
            "event_type": event_type,
            "event_time": event_time,
            "index": position[0] if position else None,
            "feed_index": position[1] if position else None,
            "dead_letter": kind == "malformed",
            "delay_ms": None,
            "variant": None,
            "sha256": None,
        }
        line.update(details)
        self._truth.write(line)


# --- record changes ---------------------------------------------------------------------------


def _recase_key(key: str, style: int) -> str:
    if style == 0:
        return key[:1].upper() + key[1:]
    if style == 1:
        return key[:1].lower() + key[1:]
    if style == 2:
        return key.lower()
    return key.upper()


def _recased(value, rng: random.Random, share: float):
    if type(value) is dict:
        out = {}
        for key, item in value.items():
            if rng.random() < share:
                key = _recase_key(key, rng.randrange(4))
            out[key] = _recased(item, rng, share)
        return out
    if type(value) is list:
        return [_recased(item, rng, share) for item in value]
    return value


def recase(record: dict, rng: random.Random) -> dict:
    """A copy of `record` with some keys in another casing (`AgentInfo`, `eventtype`,
    `CURRENTAGENTSNAPSHOT`, ...) and, for contact events, sometimes `Voice`-style channel and
    lower-case event type values, as seen in AWS samples."""
    changed = _recased(record, rng, rng.choice((0.2, 0.5, 1.0)))
    if changed == record:  # nothing drawn: change the key every reader looks at first
        first = "EventType" if "AgentARN" in record else "detail"
        changed = {(_recase_key(k, 2 if first == "EventType" else 0) if k == first else k): v
                   for k, v in changed.items()}
    if "AgentARN" not in record and rng.random() < 0.5:
        for key, detail in changed.items():
            if key.lower() == "detail" and type(detail) is dict:
                for name in list(detail):
                    if name.lower() == "channel" and type(detail[name]) is str:
                        detail[name] = detail[name].capitalize()
                    elif name.lower() == "eventtype" and type(detail[name]) is str:
                        detail[name] = detail[name].lower()
    if "AgentARN" in record and rng.random() < 0.5:
        for key in list(changed):
            if key.lower() == "eventtype" and type(changed[key]) is str:
                changed[key] = changed[key].lower()
    return changed


def corrupt(event: Emitted, variant: str, rng: random.Random) -> bytes:
    """Bytes no reader can use: `not_json` (cut short), `not_utf8` (an invalid byte inside),
    `missing_key` (without an id, the event type, the time or the detail)."""
    data = event.payload
    if variant == "not_json":
        return data[: rng.randint(1, len(data) - 1)]
    if variant == "not_utf8":
        cut = rng.randint(1, len(data) - 1)
        return data[:cut] + b"\xff\xfe" + data[cut:]
    record = dict(event.record)
    if event.feed == AGENT_FEED or "AgentARN" in record:
        del record[rng.choice(("AgentARN", "EventType", "EventTimestamp"))]
    else:
        choice = rng.choice(("detail", "contactId", "eventType"))
        if choice == "detail":
            del record["detail"]
        else:
            detail = dict(record["detail"])
            del detail[choice]
            record["detail"] = detail
    return orjson.dumps(record)
