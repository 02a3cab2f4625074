"""The environment for `connect-metrics` subprocesses, as it was before any test ran Flink.

Running a PyFlink job in the test process leaves its in-process worker settings in os.environ
(among them PYFLINK_GATEWAY_DISABLED); a child inheriting them could not start its own Flink.
"""

from __future__ import annotations

import os

CLI_ENV = dict(os.environ)
