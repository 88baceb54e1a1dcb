"""`local.console`: on a terminal, `make run` shows a progress line and what the caller writes to the
terminal; everything else (this process's and its children's output) goes to the state dir's log."""

import os
import pty
import subprocess
import sys
import time
from pathlib import Path

from tests.e2e.localstack import ROOT

SCRIPT = """
import subprocess, sys
from pathlib import Path
from local.console import Console
console = Console.divert_if_terminal(Path(sys.argv[1]), verbose=False)
assert console is not None
print("a JSON metric line", flush=True)
subprocess.run([sys.executable, "-c", "print('a worker line')"], check=True)
console.progress("seeding the demo shop")
console.done()
print("BANNER", file=console.terminal, flush=True)
"""


def read_all(fd: int, deadline: float) -> bytes:
    out = b""
    while time.monotonic() < deadline:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    return out


def test_on_a_terminal_the_logs_go_to_the_state_dir_and_the_terminal_keeps_progress_and_banner(
    tmp_path: Path,
) -> None:
    # Given a terminal (a pseudo-terminal) as the stack's stdout
    parent, child = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(tmp_path)], cwd=ROOT, stdout=child, stderr=child, stdin=subprocess.DEVNULL
    )
    os.close(child)
    terminal = read_all(parent, time.monotonic() + 30).decode()
    os.close(parent)
    assert process.wait(timeout=30) == 0, terminal

    # Then the terminal shows the progress line and the banner, and no log line
    assert "seeding the demo shop" in terminal and "BANNER" in terminal
    assert "metric" not in terminal and "worker" not in terminal
    # And the log in the state dir has this process's and its children's output
    log = (tmp_path / "stack.log").read_text()
    assert "a JSON metric line" in log and "a worker line" in log
