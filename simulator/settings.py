"""What a simulated contact centre is made of: channels, shifts, arrival rates.

Every duration is in seconds here (milliseconds inside the simulation). Distributions:

* talk time (connected, without hold or pause): lognormal with mean `mean_talk_s` and
  coefficient of variation `talk_cv`, in milliseconds;
* hold, pause and After Contact Work: whole seconds, 1 + a geometric number of seconds, whose
  mean is exactly the configured mean (`whole_seconds`), so Connect's whole-second durations
  (`agentInitiatedHoldDuration`, `afterContactWorkDuration`) are exact;
* patience: exponential with mean `mean_patience_s` (None: the customer never gives up);
* arrivals: a Poisson process per queue and channel, optionally modulated by a 24-hour profile.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

CHANNELS = ("VOICE", "CHAT", "TASK")


@dataclass(frozen=True)
class ChannelSettings:
    share: float = 1.0                      # weight of the channel in the arrival rate
    concurrency: int = 1                    # slots per agent
    initiation_method: str = "INBOUND"      # of a new arriving contact
    mean_talk_s: float = 240.0
    talk_cv: float = 0.8
    hold_probability: float = 0.0
    mean_hold_s: float = 40.0
    mean_acw_s: float = 30.0
    mean_patience_s: float | None = 120.0
    system_s: tuple[float, float] | None = (0.2, 0.8)  # INITIATED -> CONNECTED_TO_SYSTEM
    flow_s: tuple[float, float] = (5.0, 20.0)          # INITIATED -> QUEUED
    answer_s: tuple[float, float] = (2.0, 8.0)         # ringing until the agent accepts
    ring_timeout_s: float = 20.0                        # ringing until the offer is missed
    miss_probability: float = 0.02
    error_probability: float = 0.0
    transfer_probability: float = 0.0
    agent_transfer_share: float = 0.3      # of transfers: to an agent (else to a queue)
    callback_probability: float = 0.0      # a waiting INBOUND customer asks for a callback...
    callback_after_s: float = 60.0         # ...after this long in queue
    pause_probability: float = 0.0         # tasks: paused once while connected
    mean_pause_s: float = 120.0

    def expected_handle_ms(self) -> float:
        """Mean contact handle time (talk + hold + pause + ACW) of the configured distributions."""
        return 1000.0 * (
            self.mean_talk_s
            + self.hold_probability * self.mean_hold_s
            + self.pause_probability * self.mean_pause_s
            + self.mean_acw_s
        ) - 0.5  # talk is truncated to whole milliseconds


DEFAULT_CHANNELS: dict[str, ChannelSettings] = {
    "VOICE": ChannelSettings(
        share=0.6, concurrency=1, initiation_method="INBOUND", mean_talk_s=240.0, talk_cv=0.8,
        hold_probability=0.2, mean_hold_s=45.0, mean_acw_s=30.0, mean_patience_s=120.0,
        system_s=(0.2, 0.8), flow_s=(5.0, 25.0), answer_s=(2.0, 8.0), ring_timeout_s=20.0,
        miss_probability=0.02, error_probability=0.002, transfer_probability=0.05,
        callback_probability=0.1, callback_after_s=90.0,
    ),
    "CHAT": ChannelSettings(
        share=0.3, concurrency=3, initiation_method="API", mean_talk_s=420.0, talk_cv=0.6,
        mean_acw_s=20.0, mean_patience_s=300.0, system_s=(0.1, 0.3), flow_s=(1.0, 5.0),
        answer_s=(2.0, 10.0), ring_timeout_s=30.0, miss_probability=0.02,
        transfer_probability=0.03,
    ),
    "TASK": ChannelSettings(
        share=0.1, concurrency=1, initiation_method="API", mean_talk_s=300.0, talk_cv=0.7,
        mean_acw_s=15.0, mean_patience_s=None, system_s=None, flow_s=(0.2, 1.0),
        answer_s=(2.0, 10.0), ring_timeout_s=60.0, miss_probability=0.02,
        pause_probability=0.25, mean_pause_s=90.0,
    ),
}

#: A weekday of an office-hours contact centre: multipliers of the rate by local hour.
OFFICE_DAY = (
    0.05, 0.03, 0.03, 0.03, 0.05, 0.1, 0.3, 0.6, 1.0, 1.3, 1.4, 1.3,
    1.1, 1.2, 1.3, 1.2, 1.0, 0.8, 0.5, 0.35, 0.25, 0.15, 0.1, 0.07,
)
DAY_PROFILES = {"flat": None, "office": OFFICE_DAY}


@dataclass(frozen=True)
class ShiftSettings:
    """Shifts. By default agents are already somewhere in their shift when the simulation
    starts (`staggered`: they log in within `login_spread_s`, and their first shift ends
    after a random part of `shift_s`), and come back `off_s` after their LOGOUT, so a long run
    stays staffed and LOGIN / LOGOUT happen throughout it. With `staggered` off every agent
    starts a whole shift at the start."""

    login_spread_s: float = 300.0             # first logins within this long of the start
    login_to_available_s: tuple[float, float] = (2.0, 20.0)
    shift_s: float = 8 * 3600.0
    off_s: float = 900.0                      # from LOGOUT to the next LOGIN
    staggered: bool = True
    first_break_s: tuple[float, float] = (600.0, 7200.0)  # after LOGIN
    break_every_s: float = 7200.0
    break_s: float = 900.0
    lunch_after_s: float = 4 * 3600.0
    lunch_s: float = 1800.0
    set_status_s: tuple[float, float] = (5.0, 40.0)  # after a missed or failed contact
    logout_after_offline_s: tuple[float, float] = (1.0, 10.0)
    heartbeat_after_logout_s: float = 3600.0


@dataclass(frozen=True)
class OutboundSettings:
    answer_probability: float = 0.7
    answer_s: tuple[float, float] = (5.0, 25.0)
    no_answer_s: float = 30.0
    no_answer_acw_s: float = 5.0


@dataclass(frozen=True)
class CentreSettings:
    """One Amazon Connect instance. Arrivals per minute are split over the queues by
    `queue_weights` (equal when None) and over the channels by their `share`."""

    agents: int = 10
    queues: int = 2
    arrivals_per_minute: float = 6.0
    channels: tuple[str, ...] = ("VOICE", "CHAT")
    channel_settings: dict[str, ChannelSettings] = field(
        default_factory=lambda: dict(DEFAULT_CHANNELS)
    )
    queue_weights: tuple[float, ...] | None = None
    #: explicit rates, (queue index, channel, per minute) each; they replace the split above
    rates: tuple[tuple[int, str, float], ...] | None = None
    outbound_per_minute: float | None = None  # None: 5 % of the arrival rate, when VOICE is on
    outbound: OutboundSettings = field(default_factory=OutboundSettings)
    day_profile: tuple[float, ...] | None = None  # 24 multipliers by local hour
    utc_offset_minutes: int = 0
    shifts: ShiftSettings = field(default_factory=ShiftSettings)
    arrivals_end_s: float | None = None       # no new arrivals after this much simulated time
    instance_id: str | None = None            # None: derived from the seed
    instance_alias: str | None = None
    #: queues renamed during the run, (queue index, seconds after the start, new name) each:
    #: agents' snapshots name the queue so from then on, as Connect's do after a rename
    queue_renames: tuple[tuple[int, float, str], ...] = ()

    def __post_init__(self):
        if self.agents < 1 or self.queues < 1:
            raise ValueError("a centre needs at least one agent and one queue")
        if self.arrivals_per_minute < 0:
            raise ValueError("arrivals_per_minute must not be negative")
        unknown = [c for c in self.channels if c not in CHANNELS]
        if unknown or not self.channels:
            raise ValueError(f"channels must be some of {', '.join(CHANNELS)}, got {self.channels}")
        missing = [c for c in self.channels if c not in self.channel_settings]
        if missing:
            raise ValueError(f"no ChannelSettings for {', '.join(missing)}")
        if self.queue_weights is not None and len(self.queue_weights) != self.queues:
            raise ValueError("queue_weights needs one weight per queue")
        if self.rates is not None:
            for queue, channel, rate in self.rates:
                if not 0 <= queue < self.queues or channel not in self.channels or rate < 0:
                    raise ValueError(f"bad rate {(queue, channel, rate)}: needs a queue index "
                                     f"below {self.queues}, one of {self.channels}, rate >= 0")
        for queue, after_s, name in self.queue_renames:
            if not 0 <= queue < self.queues or after_s < 0 or not name:
                raise ValueError(f"bad rename {(queue, after_s, name)}: needs a queue index "
                                 f"below {self.queues}, a time >= 0 and a name")
        if self.day_profile is not None and (
            len(self.day_profile) != 24 or min(self.day_profile) < 0 or max(self.day_profile) <= 0
        ):
            raise ValueError("day_profile needs 24 non-negative multipliers, one not zero")

    def channel(self, name: str) -> ChannelSettings:
        return self.channel_settings[name]

    def rates_per_minute(self) -> dict[tuple[int, str], float]:
        """Arrival rate (at profile multiplier 1) per (queue index, channel)."""
        if self.rates is not None:
            explicit = {(q, c): 0.0 for q in range(self.queues) for c in self.channels}
            for queue, channel, rate in self.rates:
                explicit[(queue, channel)] += rate
            return explicit
        weights = self.queue_weights or (1.0,) * self.queues
        total_weight = sum(weights)
        shares = {c: self.channel(c).share for c in self.channels}
        total_share = sum(shares.values())
        if total_weight <= 0 or total_share <= 0:
            return {(q, c): 0.0 for q in range(self.queues) for c in self.channels}
        return {
            (q, c): self.arrivals_per_minute * weights[q] / total_weight * shares[c] / total_share
            for q in range(self.queues)
            for c in self.channels
        }

    def outbound_rate_per_minute(self) -> float:
        if "VOICE" not in self.channels:
            return 0.0
        if self.outbound_per_minute is None:
            return 0.05 * self.arrivals_per_minute
        return self.outbound_per_minute


# --- distributions ---------------------------------------------------------------------------


def lognormal_ms(rng: random.Random, mean_s: float, cv: float) -> int:
    if cv <= 0:
        return int(mean_s * 1000)
    sigma2 = math.log(1 + cv * cv)
    return int(1000 * rng.lognormvariate(math.log(mean_s) - sigma2 / 2, math.sqrt(sigma2)))


def whole_seconds_ms(rng: random.Random, mean_s: float) -> int:
    """1 + a geometric number of seconds, mean exactly `mean_s` (at least 1), in ms."""
    if mean_s <= 1:
        return 1000
    rate = math.log(1 + 1 / (mean_s - 1))
    return 1000 * (1 + int(rng.expovariate(rate)))


def uniform_ms(rng: random.Random, bounds: tuple[float, float]) -> int:
    low, high = bounds
    return int(1000 * rng.uniform(low, high))
