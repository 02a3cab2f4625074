"""Each queue's service-level thresholds.

Amazon Connect lets each queue's supervisors pick the threshold of its service level (reference
section 3: X in 15 ... 600 s). The job takes a default list for every queue and a list per
queue, both from configuration:

    Job.service.level.thresholds        20,60
    Job.service.level.queue.thresholds  QUEUE_ID=120;name:Sales=20,30

A queue is given by its id, its ARN (`arn:aws:connect:...:instance/I/queue/QUEUE_ID`, read as
the id) or `name:` and its name. Contact events name queues by ARN only, and a queue keeps its
id when it is renamed, so an id target follows the queue through a rename; a name target holds
for a queue while the newest name the job learned for it (from agent snapshots) is that name.
An id entry wins over a name entry for the same queue.
"""

from __future__ import annotations

from dataclasses import dataclass

QUEUE_ARN_MARK = "/queue/"
NAME_MARK = "name:"


class ServiceLevelError(ValueError):
    """A thresholds setting that cannot be read; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class ServiceLevels:
    """`default`: the thresholds (seconds) of every queue in neither `by_queue` (queue id ->
    thresholds) nor `by_name` (queue name -> thresholds). Thresholds are distinct, positive and
    in ascending order."""

    default: tuple[int, ...] = (20, 60)
    by_queue: tuple[tuple[str, tuple[int, ...]], ...] = ()
    by_name: tuple[tuple[str, tuple[int, ...]], ...] = ()

    def for_queue(self, queue_id: str | None, name: str | None = None) -> tuple[int, ...]:
        """The thresholds of `queue_id` whose newest name is `name` (None: not known); none for
        no queue."""
        if queue_id is None:
            return ()
        for queues, key in ((self.by_queue, queue_id), (self.by_name, name)):
            for queue, thresholds in queues:
                if queue == key:
                    return thresholds
        return self.default

    def needs_name(self, queue_id: str | None) -> bool:
        """Whether `queue_id`'s thresholds depend on its name."""
        return bool(self.by_name) and queue_id is not None and all(
            queue != queue_id for queue, _ in self.by_queue)

    def candidates(self, queue_id: str | None) -> tuple[int, ...]:
        """Every threshold `queue_id` may have whatever its name: what a contact of the queue is
        counted against before its queue's name decides (`for_queue`)."""
        if not self.needs_name(queue_id):
            return self.for_queue(queue_id)
        return tuple(sorted({*self.default, *(t for _, ts in self.by_name for t in ts)}))

    @classmethod
    def parse(cls, default: str, by_queue: str) -> "ServiceLevels":
        """From the two settings' text (see the module documentation)."""
        queues: dict[str, tuple[int, ...]] = {}
        names: dict[str, tuple[int, ...]] = {}
        for entry in filter(None, (part.strip() for part in by_queue.split(";"))):
            queue, equals, seconds = entry.rpartition("=")
            queue = queue.strip()
            if queue.startswith(NAME_MARK):
                into, key, whose = names, queue[len(NAME_MARK):].strip(), "queue named"
            else:
                into, key, whose = queues, queue_id_of(queue), "queue"
            if not equals or not key:
                raise ServiceLevelError(f"{entry!r} is not QUEUE=SECONDS[,SECONDS...]")
            if key in into:
                raise ServiceLevelError(f"{whose} {key} is given twice")
            into[key] = thresholds(seconds, f"{whose} {key}")
        return cls(thresholds(default), tuple(sorted(queues.items())), tuple(sorted(names.items())))


def thresholds(text: str, whose: str = "") -> tuple[int, ...]:
    """Comma-separated whole seconds as a sorted tuple; `whose` starts an error's message."""
    whose = f"{whose}: " if whose else ""
    values = []
    for part in text.split(","):
        try:
            value = int(part.strip())
        except ValueError:
            raise ServiceLevelError(
                f"{whose}{part.strip()!r} is not a whole number of seconds") from None
        if value <= 0:
            raise ServiceLevelError(f"{whose}{value} s is not a positive threshold")
        values.append(value)
    if len(set(values)) != len(values):
        raise ServiceLevelError(f"{whose}a threshold is given twice")
    return tuple(sorted(values))


def queue_id_of(text: str) -> str:
    """A queue id, or the id at the end of a queue ARN."""
    if QUEUE_ARN_MARK in text:
        return text.rsplit(QUEUE_ARN_MARK, 1)[1]
    return text
