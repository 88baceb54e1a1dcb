"""Starting and driving `python -m local run` from tests: free ports and a state dir of its own, so a
`make run` on the same machine is left alone."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.stack import READY_PREFIX

ROOT = Path(__file__).resolve().parents[2]
START_DEADLINE = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LocalStack:
    api: str
    state_dir: Path
    process: subprocess.Popen[str]
    log: Path

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run `python -m local ARGS` against this stack."""
        return subprocess.run(
            [sys.executable, "-m", "local", "--state-dir", str(self.state_dir), *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=check,
            timeout=60,
        )

    def state(self) -> dict[str, Any]:
        """What the running stack published about itself (endpoints, pool ids, schedules)."""
        return dict(json.loads((self.state_dir / "stack.json").read_text()))

    def token(self, email: str, group: str | None = None) -> str:
        args = ["token", "--email", email] + (["--group", group] if group else [])
        return self.cli(*args).stdout.strip()

    def workers(self) -> Counter[str]:
        """How many worker processes each function has right now. Idle workers live for minutes, so
        after a burst this counts how many ran at once."""
        return Counter(worker_pids(self.process.pid).values())


def worker_pids(stack_pid: int) -> dict[int, str]:
    """The stack's function workers (Linux: read from /proc): pid -> function name."""
    found: dict[int, str] = {}
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            stat = (proc / "stat").read_text()
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == stack_pid and len(argv) > 5 and argv[3].endswith(b"worker.py"):
            found[int(proc.name)] = argv[5].decode()
    return found


def wait_ready(process: subprocess.Popen[str], log: Path, within: float = START_DEADLINE) -> str:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the local stack exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        for line in log.read_text().splitlines():
            if line.startswith(READY_PREFIX):
                return line.removeprefix(READY_PREFIX).strip()
        time.sleep(0.1)
    raise TimeoutError(f"the local stack was not ready within {within:.0f} s:\n{log.read_text()[-4000:]}")


def start(
    state_dir: Path, *extra: str, quiet: bool = True, web_port: int = 0, demo_pricing: bool = False
) -> tuple[subprocess.Popen[str], Path]:
    """Start a stack in the background; its output goes to `state_dir/stack.log` (warnings only unless
    `quiet` is False: then every handler's INFO lines too). Without `web_port` the web apps are not
    served (their origin would go first in AllowedOrigins; the API suites check the template's own).
    `demo_pricing`: the demo shop's tax rates and shipping methods too (the browser journeys)."""
    log = state_dir / "stack.log"
    command = [sys.executable, "-m", "local", "--state-dir", str(state_dir), "run", *(["--quiet"] * quiet), *extra]
    # Issue 13: the demo shop's shipping methods make checkout to DE name one; the e2e suites still check
    # out as before methods existed (a shop without any ships for free), until they are moved over.
    command += [] if demo_pricing else ["--no-demo-pricing"]
    command += ["--port", str(free_port()), "--aws-port", str(free_port()), "--stripe-port", str(free_port())]
    command += ["--web-port", str(web_port)]
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, text=True)
    return process, log


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def stop(process: subprocess.Popen[str]) -> None:
    """Ctrl-C, as a person would; kill only if it does not stop in time."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
