"""What a person sees when `make run` starts the stack on a terminal: one progress line, then the banner.

Everything else — the gateway's request lines, the functions' JSON logs and metrics, the seed, Stripe's
library — goes to `<state dir>/stack.log`. The process's own file descriptors 1 and 2 are pointed at
the log, so the worker processes and localstripe, which inherit them, write there too; the terminal is
kept on a duplicate descriptor for the progress line and the banner. With `--verbose`, or when stdout is
not a terminal (tests, CI: the output is already a log), nothing is redirected.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TextIO

LOG_FILE = "stack.log"


class Console:
    """The terminal, once the logs are diverted to `log_path`."""

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        sys.stdout.flush()
        sys.stderr.flush()
        self.terminal: TextIO = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8", errors="replace")
        log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        os.close(log_fd)

    @classmethod
    def divert_if_terminal(cls, state_dir: Path, *, verbose: bool) -> Console | None:
        if verbose or not sys.stdout.isatty():
            return None
        return cls(state_dir / LOG_FILE)

    def progress(self, step: str) -> None:
        """Rewrite the one progress line (`\\r` + clear to the end of the line)."""
        self.terminal.write(f"\r\033[K  {step}…")
        self.terminal.flush()

    def done(self) -> None:
        self.terminal.write("\r\033[K")
        self.terminal.flush()

    def failed(self, error: BaseException, tail_lines: int = 25) -> None:
        """The start failed: the end of the log on the terminal, where the person is looking."""
        self.done()
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            tail = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-tail_lines:]
        except OSError:
            tail = []
        lines = [*tail, "", f"the local stack did not start: {error}", f"full log: {self.log_path}"]
        self.terminal.write("\n".join(lines) + "\n")
        self.terminal.flush()
