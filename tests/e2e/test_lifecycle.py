"""`make run` must stop cleanly on Ctrl-C and leave no process behind (localstripe included)."""

import json
import signal
import time
from pathlib import Path

import pytest
import requests

from tests.e2e.localstack import pid_alive, start, wait_ready, worker_pids

pytestmark = pytest.mark.e2e


def test_ctrl_c_stops_everything(tmp_path: Path) -> None:
    # Given a stack without demo data
    process, log = start(tmp_path, "--no-seed")
    wait_ready(process, log)
    state = json.loads((tmp_path / "stack.json").read_text())
    stripe_pid = state["stripePid"]
    assert pid_alive(stripe_pid)
    # ...that has started a function's worker
    assert requests.get(f"{state['apiUrl']}/products", timeout=60).status_code == 200
    workers = worker_pids(process.pid)
    assert "CatalogPublicFunction" in workers.values(), workers
    # When it gets Ctrl-C
    process.send_signal(signal.SIGINT)
    # Then it exits, its localstripe goes with it, and its state file is gone
    assert process.wait(timeout=20) == 0
    deadline = time.monotonic() + 10
    while pid_alive(stripe_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pid_alive(stripe_pid)
    assert not [pid for pid in workers if pid_alive(pid)], "a function's worker outlived the stack"
    assert not (tmp_path / "stack.json").exists()
