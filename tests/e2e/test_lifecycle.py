"""`make run` must stop cleanly on Ctrl-C and leave no process behind (localstripe included)."""

import json
import signal
import time
from pathlib import Path

import pytest

from tests.e2e.localstack import pid_alive, start, wait_ready

pytestmark = pytest.mark.e2e


def test_ctrl_c_stops_everything(tmp_path: Path) -> None:
    # Given a stack without demo data
    process, log = start(tmp_path, "--no-seed")
    wait_ready(process, log)
    stripe_pid = json.loads((tmp_path / "stack.json").read_text())["stripePid"]
    assert pid_alive(stripe_pid)
    # When it gets Ctrl-C
    process.send_signal(signal.SIGINT)
    # Then it exits, its localstripe goes with it, and its state file is gone
    assert process.wait(timeout=20) == 0
    deadline = time.monotonic() + 10
    while pid_alive(stripe_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pid_alive(stripe_pid)
    assert not (tmp_path / "stack.json").exists()
