"""Each queue's service-level thresholds.

Amazon Connect lets each queue's supervisors pick the threshold of its service level (reference
section 3: X in 15 ... 600 s). The job takes a default list for every queue and a list per
queue id, both from configuration:

    Job.service.level.thresholds        20,60
    Job.service.level.queue.thresholds  QUEUE_ID=120;OTHER_QUEUE_ID=20,30

A queue is named by its id or its ARN (`arn:aws:connect:...:instance/I/queue/QUEUE_ID`, read
as the id). Contact events name queues by ARN only, and a queue keeps its id when it is
renamed, so a target follows the queue through a rename.
"""

from __future__ import annotations

from dataclasses import dataclass

QUEUE_ARN_MARK = "/queue/"


class ServiceLevelError(ValueError):
    """A thresholds setting that cannot be read; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class ServiceLevels:
    """`default`: the thresholds (seconds) of every queue not in `by_queue` (queue id ->
    thresholds). Thresholds are distinct, positive and in ascending order."""

    default: tuple[int, ...] = (20, 60)
    by_queue: tuple[tuple[str, tuple[int, ...]], ...] = ()

    def for_queue(self, queue_id: str | None) -> tuple[int, ...]:
        """The thresholds of `queue_id`; none for no queue."""
        if queue_id is None:
            return ()
        for queue, thresholds in self.by_queue:
            if queue == queue_id:
                return thresholds
        return self.default

    @classmethod
    def parse(cls, default: str, by_queue: str) -> "ServiceLevels":
        """From the two settings' text (see the module documentation)."""
        queues: dict[str, tuple[int, ...]] = {}
        for entry in filter(None, (part.strip() for part in by_queue.split(";"))):
            queue, equals, seconds = entry.partition("=")
            queue_id = queue_id_of(queue.strip())
            if not equals or not queue_id:
                raise ServiceLevelError(f"{entry!r} is not QUEUE=SECONDS[,SECONDS...]")
            if queue_id in queues:
                raise ServiceLevelError(f"queue {queue_id} is given twice")
            queues[queue_id] = thresholds(seconds, f"queue {queue_id}")
        return cls(thresholds(default), tuple(sorted(queues.items())))


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
