"""The README's first command: the demo shows the dashboard over what lands and leaves nothing
behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace

import pytest

from connectors.settings import KinesisSettings
from jobs.config import PROJECT_ROOT, JobSettings
from cli.prerequisites import port_in_use
from cli.top.render import ALL_QUEUES
from tests.conftest import CLI_ENV
from tests.e2e.conftest import write_properties

pytestmark = pytest.mark.e2e


def test_demo_shows_the_dashboard_and_stops_everything_on_ctrl_c(job_config, tmp_path):
    config, _ = job_config
    # The demo runs the whole catalogue: the dashboard reads its tables.
    config = replace(config, job=replace(config.job, sql_dir=JobSettings().sql_dir),
                     kinesis=replace(config.kinesis, idle_clock_ms=KinesisSettings().idle_clock_ms))
    properties = write_properties(config, tmp_path / "demo.json")
    demo = subprocess.Popen(
        [sys.executable, "-m", "cli", "demo", "--config", str(properties)],
        cwd=PROJECT_ROOT, env=CLI_ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )
    frames, queue_lines = [], []  # not a terminal: a plain frame every few seconds
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and len(frames) < 3:
            line = demo.stdout.readline()
            if not line:
                break
            if line.startswith(ALL_QUEUES):  # the queue table's last line: queues have landed
                frames.append(line)
            elif line.split()[:1] in (["Sales"], ["Support"], ["Billing"]):
                queue_lines.append(line)
        os.killpg(demo.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends
        rest, _ = demo.communicate(timeout=90)
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()
    assert len(frames) >= 3, rest
    # The simulator's queue names, learned by the job from agent snapshots: no name map given.
    assert {line.split()[0] for line in queue_lines} == {"Sales", "Support", "Billing"}, rest
    assert demo.returncode == 0, rest
    assert "metric rows landed in the Timestream emulator" in rest
    for endpoint in (config.kinesis.endpoint, config.timestream.endpoint):
        port = int(endpoint.rsplit(":", 1)[1])
        assert not port_in_use("127.0.0.1", port), f"{endpoint} still answers after the demo"
    assert processes_mentioning(str(properties)) == []


def processes_mentioning(text: str) -> list[str]:
    """Command lines of live processes that name `text` (the job and simulator the demo ran)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                command = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{entry}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if text in command and state != "Z":
            found.append(command)
    return found
