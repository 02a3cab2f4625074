"""The live loop behind `connect-metrics top` and `make demo`: read, render, draw, repeat.

On a terminal each frame redraws the screen in place (cursor home, clear to the end of each
line); anywhere else (a pipe, a log, a test) frames are printed one after the other, so the
output stays readable as plain text.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TextIO

from connectors.settings import ConfigError
from jobs.config import Config
from cli.top.emulator import EmulatorStore
from cli.top.render import render
from cli.top.snapshot import Snapshot, load
from cli.top.store import Store, StoreError
from cli.top.timestream import TimestreamStore

PLAIN_WIDTH = 140  # a queue table with each queue's thresholds fits (tests/unit/test_top.py)
EMULATOR_REFRESH_S = 1.0
TIMESTREAM_REFRESH_S = 10.0
"""Every frame runs four Timestream queries, each billed; the emulator costs nothing to ask."""
_HOME, _CLEAR, _CLEAR_LINE, _CLEAR_BELOW = "\x1b[H", "\x1b[2J", "\x1b[K", "\x1b[J"
_HIDE_CURSOR, _SHOW_CURSOR = "\x1b[?25l", "\x1b[?25h"


class Screen:
    """Where frames go: redrawn in place on a terminal, appended otherwise."""

    def __init__(self, out: TextIO | None = None, width: int | None = None,
                 redraw: bool | None = None):
        self.out = out or sys.stdout
        self.redraw = self.out.isatty() if redraw is None else redraw
        self._width = width

    @property
    def width(self) -> int:
        if self._width:
            return self._width
        return shutil.get_terminal_size((PLAIN_WIDTH, 24)).columns if self.redraw else PLAIN_WIDTH

    def __enter__(self) -> Screen:
        if self.redraw:
            self.out.write(_HIDE_CURSOR + _HOME + _CLEAR)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.redraw:
            self.out.write(_SHOW_CURSOR)
            self.out.flush()

    def draw(self, frame: str) -> None:
        if self.redraw:
            self.out.write(_HOME + frame.replace("\n", _CLEAR_LINE + "\n") + _CLEAR_BELOW)
        else:
            self.out.write(frame + "\n")
        self.out.flush()


def watch(store: Store, screen: Screen, refresh_s: float, *, frames: int | None = None,
          deadline: float | None = None, queue_names: Mapping[str, str] | None = None,
          check: Callable[[], None] = lambda: None) -> Snapshot | None:
    """Draw a frame every `refresh_s` until `frames` are drawn or the monotonic `deadline`
    passes (Ctrl-C raises KeyboardInterrupt to the caller); `check` runs before each frame and
    may raise to stop. A store that cannot be read shows its error and is tried again."""
    snapshot = None
    drawn = 0
    next_frame = time.monotonic()
    with screen:
        while deadline is None or time.monotonic() < deadline:
            check()
            now_ms = int(time.time() * 1000)
            try:
                snapshot = load(store, now_ms, queue_names)
            except StoreError as err:
                snapshot = Snapshot(store.description, now_ms, error=str(err))
            screen.draw(render(snapshot, screen.width))
            drawn += 1
            if frames is not None and drawn >= frames:
                break
            next_frame += refresh_s
            pause = next_frame - time.monotonic()
            if deadline is not None:
                pause = min(pause, deadline - time.monotonic())
            time.sleep(max(0.0, pause))
    return snapshot


def open_store(config: Config, timestream: bool = False, region: str | None = None,
               database: str | None = None, influxdb: bool = False) -> Store:
    """InfluxDB at InfluxDB.url when asked for or when the job writes there
    (`Timestream.target` influxdb); Amazon Timestream when asked for (or when no endpoint is
    configured, which means AWS); else the emulator at the configured endpoint."""
    if influxdb or (config.timestream.target == "influxdb" and not timestream):
        from connectors.influxdb import read_token
        from cli.top.influxdb import InfluxDBStore

        settings = config.influxdb
        return InfluxDBStore(settings.url, database or settings.database,
                             read_token(settings, dict(os.environ)))
    database = database or config.timestream.database
    if timestream or not config.timestream.endpoint:
        return TimestreamStore.connect(region or config.timestream.region, database)
    return EmulatorStore(config.timestream.endpoint, database)


def default_refresh(store: Store) -> float:
    return TIMESTREAM_REFRESH_S if isinstance(store, TimestreamStore) else EMULATOR_REFRESH_S


def read_queue_names(path: Path) -> dict[str, str]:
    """A JSON object of queue id (or queue ARN) to name."""
    example = '{"d23f0824-128b-4f33-8c5c-7fd0a6a3a450": "Sales"}'
    try:
        names = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"--queue-names {path}: no such file") from None
    except json.JSONDecodeError as err:
        raise ConfigError(
            f"--queue-names {path}:{err.lineno}: not valid JSON ({err.msg})"
        ) from None
    if not isinstance(names, dict) or not all(isinstance(v, str) for v in names.values()):
        raise ConfigError(f"--queue-names {path}: expected a JSON object of queue id or queue "
                          f"ARN to name, such as {example}")
    return {str(key).rsplit("/queue/", 1)[-1]: name for key, name in names.items()}
