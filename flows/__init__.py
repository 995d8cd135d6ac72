"""Prefect flows: thin compositions of the pipeline stages. Prefect is imported only here."""

import os

# Set before Prefect is imported: no telemetry, and time for the temporary local server,
# which needs up to 23 s to start on a 2-core machine (Prefect's default allows 20).
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

from flows.process import process_call, process_inbox  # noqa: E402
from flows.rescore import RescoreSummary, SwapSummary, rescore_calls, swap_call_speakers  # noqa: E402

__all__ = [
    "RescoreSummary",
    "SwapSummary",
    "process_call",
    "process_inbox",
    "rescore_calls",
    "swap_call_speakers",
]
