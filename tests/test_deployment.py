"""The nightly deployment against a real local Prefect server: `callqa schedule` creates it
with its cron schedule, and a run triggered through Prefect scores the inbox end to end."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from models import CallRow, make_engine, make_session_factory
from tests.conftest import ROOT, SAMPLES

pytestmark = [pytest.mark.prefect, pytest.mark.whisper]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {seconds} s")


@pytest.fixture
def prefect_server(tmp_path):
    port = _free_port()
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "DO_NOT_TRACK": "1", "PREFECT_UI_ENABLED": "false"}
    server = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    api = f"http://127.0.0.1:{port}/api"
    try:
        _wait_for(f"{api}/health", 120)
        yield {**env, "PREFECT_API_URL": api}
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_schedule_serves_a_cron_deployment_and_a_triggered_run_scores_the_inbox(prefect_server, tmp_path, model_cache_dir):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(SAMPLES / "en_poor_laptop.wav", inbox / "en_poor_laptop.wav")
    database = tmp_path / "callqa.db"
    env = {**prefect_server, "CALLQA_DATA_DIR": str(tmp_path / "data"), "CALLQA_INBOX_DIR": str(inbox),
           "CALLQA_DATABASE_URL": f"sqlite:///{database}", "CALLQA_MODEL_CACHE_DIR": str(model_cache_dir),
           "CALLQA_INBOX_SETTLE_S": "0"}  # the recording was copied in just now
    env.pop("CALLQA_CONFIG", None)
    serving = subprocess.Popen(
        [sys.executable, "-m", "callqa", "schedule", "--cron", "30 2 * * *", "--timezone", "Europe/Moscow"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        # A fresh interpreter, so that Prefect talks to this server and not to the temporary
        # one that earlier tests of the session started.
        check = subprocess.run([sys.executable, "-c", _CHECK_AND_RUN], env=prefect_server, capture_output=True,
                               text=True, timeout=480)
    finally:
        serving.terminate()
        serving_output = serving.communicate(timeout=30)[0]
    assert check.returncode == 0, f"{check.stdout}{check.stderr}\n--- callqa schedule:\n{serving_output}"
    cron, time_zone, final_state = json.loads(check.stdout.splitlines()[-1])
    assert (cron, time_zone) == ("30 2 * * *", "Europe/Moscow")
    assert final_state == "COMPLETED", serving_output
    engine = make_engine(f"sqlite:///{database}")
    with make_session_factory(engine)() as session:
        (call,) = session.query(CallRow).all()
        assert call.status == "scored" and call.assessments[0].language == "en"
    engine.dispose()


_CHECK_AND_RUN = """
import asyncio, json, time
from prefect.client.orchestration import get_client
from prefect.deployments import run_deployment

async def main():
    async with get_client() as client:
        deadline = time.monotonic() + 120
        while True:
            try:
                deployment = await client.read_deployment_by_name("process-inbox/nightly")
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(1)
    flow_run = await run_deployment("process-inbox/nightly", timeout=420)
    (schedule,) = deployment.schedules
    print(json.dumps([schedule.schedule.cron, schedule.schedule.timezone, flow_run.state.type.value]))

asyncio.run(main())
"""


def test_prefect_yaml_deploys_the_nightly_flow_to_a_work_pool():
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    (deployment,) = spec["deployments"]
    module, function = deployment["entrypoint"].split(":")
    assert (ROOT / module).is_file() and f"def {function}(" in Path(ROOT / module).read_text(encoding="utf-8")
    assert deployment["work_pool"]["name"] and deployment["schedules"][0]["cron"] == "0 2 * * *"
    assert deployment["schedules"][0]["timezone"] == "Europe/Moscow"
