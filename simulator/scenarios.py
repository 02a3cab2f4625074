"""Ready-made centres: what the tests, the demo and quick experiments run."""

from __future__ import annotations

import dataclasses

from simulator.settings import DEFAULT_CHANNELS, CentreSettings, ShiftSettings


def every_feature(agents: int = 30, queues: int = 3, arrivals_per_minute: float = 6.0,
                  **changes) -> CentreSettings:
    """An hour shows every feature: voice, chat and tasks, holds, pauses, misses and errors,
    callbacks, queue and agent transfers, outbound calls, breaks, lunch, next statuses, logouts
    and logins, heartbeats after logout."""
    voice = dataclasses.replace(
        DEFAULT_CHANNELS["VOICE"], miss_probability=0.05, error_probability=0.02,
        transfer_probability=0.12, agent_transfer_share=0.5, callback_probability=0.5,
        callback_after_s=30.0, mean_patience_s=150.0)
    chat = dataclasses.replace(DEFAULT_CHANNELS["CHAT"], miss_probability=0.05,
                               transfer_probability=0.08, agent_transfer_share=0.5)
    task = dataclasses.replace(DEFAULT_CHANNELS["TASK"], miss_probability=0.05,
                               pause_probability=0.5, mean_pause_s=60.0)
    shifts = ShiftSettings(
        login_spread_s=240.0, shift_s=2_400.0, off_s=600.0, first_break_s=(240.0, 900.0),
        break_every_s=900.0, break_s=240.0, lunch_after_s=1_500.0, lunch_s=300.0,
        heartbeat_after_logout_s=900.0, staggered=False,
    )
    settings = CentreSettings(
        agents=agents, queues=queues, arrivals_per_minute=arrivals_per_minute,
        channels=("VOICE", "CHAT", "TASK"),
        channel_settings={"VOICE": voice, "CHAT": chat, "TASK": task},
        outbound_per_minute=1.0, shifts=shifts,
    )
    return dataclasses.replace(settings, **changes) if changes else settings
