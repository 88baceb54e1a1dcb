"""Execution environments for the local stack: worker processes per function, as Lambda runs them.

Each function of the template gets a pool of `local.worker` processes. A worker holds one function's
handler, imported in a process whose environment is that function's template variables plus what the
Lambda runtime provides, and serves one invoke at a time. A pool starts a worker when an invoke finds
every warm one busy (that is where a cold start happens, as in Lambda), up to `size` per function; past
that, invokes wait for a worker to come free. Idle workers are stopped after `idle_seconds`.

A handler that runs past the function's `Timeout` is killed, its invoke answered with Lambda's
`Sandbox.Timedout`, and its worker replaced on the next invoke. A worker that dies mid-invoke answers
`Runtime.ExitError`. Whatever a worker prints goes to the stack's stdout, one whole line at a time.

Benchmarks may ask where an invoke's time went: with `LOCAL_PROFILE` set in the stack's environment
when a worker starts, the worker times its handler and every AWS and Stripe call (`local.worker.Profiler`;
`LOCAL_PROFILE_DIR` adds cProfile stats), and each invoke is handed to the listeners registered with
`add_profile_listener` as an `Invocation`. Unset, nothing is timed and nothing is sent.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from local import worker as protocol

log = logging.getLogger("local.workers")

WORKER_SCRIPT = Path(protocol.__file__).resolve()
DEFAULT_SIZE = 4
DEFAULT_IDLE_SECONDS = 300.0
INIT_SECONDS = 30.0  # Lambda allows 10 s; a busy 2-core laptop importing boto3 four times at once needs more

_output_lock = threading.Lock()

PROFILE_ENV = "LOCAL_PROFILE"
PROFILE_DIR_ENV = "LOCAL_PROFILE_DIR"


@dataclass(frozen=True)
class Call:
    """One AWS or Stripe call made by a handler, on the monotonic clock shared with the stack."""

    kind: str  # "aws" or "stripe"
    name: str  # "dynamodb.GetItem", "POST /v1/payment_intents"
    start: float
    end: float
    items: int = 1  # DynamoDB items, events or messages the call carried
    consistent: bool = False  # a strongly consistent read
    wire: float = 0.0  # seconds on the wire; the rest of an AWS call is the SDK's own work


@dataclass(frozen=True)
class Invocation:
    """One profiled invoke: `sent`/`answered` as the stack saw them, `start`/`end` the handler's own."""

    function: str
    request_id: str
    event: Any
    sent: float
    answered: float
    start: float
    end: float
    failed: bool
    calls: tuple[Call, ...] = field(default=())


ProfileListener = Callable[[Invocation], None]
_profile_listeners: list[ProfileListener] = []


def add_profile_listener(listener: ProfileListener) -> None:
    """Receive every profiled invoke (called on the invoking thread, after the worker answered)."""
    _profile_listeners.append(listener)


def remove_profile_listener(listener: ProfileListener) -> None:
    _profile_listeners.remove(listener)


def _profile_settings() -> dict[str, Any] | None:
    if not os.environ.get(PROFILE_ENV):
        return None
    return {"cprofileDir": os.environ.get(PROFILE_DIR_ENV) or None}


def _notify(environment: Environment, request_id: str, event: Any, sent: float, answer: Mapping[str, Any]) -> None:
    profile = answer.get("profile") or {}
    invocation = Invocation(
        function=environment.name,
        request_id=request_id,
        event=event,
        sent=sent,
        answered=time.monotonic(),
        start=float(profile.get("start", sent)),
        end=float(profile.get("end", sent)),
        failed="error" in answer,
        calls=tuple(Call(*call) for call in profile.get("calls", ())),
    )
    for listener in list(_profile_listeners):
        listener(invocation)


@dataclass(frozen=True)
class Environment:
    """What one function's workers are started with."""

    name: str
    arn: str
    handler: str
    paths: tuple[str, ...]
    variables: Mapping[str, str]
    timeout: float
    memory: int
    # The role's statements as `local.iam.Grant.as_json` gives them; None applies no IAM (tests of the pools).
    permissions: tuple[dict[str, list[str]], ...] | None = None


class InvokeError(Exception):
    """A failed invoke, carrying Lambda's error payload (`errorType`, `errorMessage`, `stackTrace`)."""

    def __init__(self, payload: Mapping[str, Any]) -> None:
        self.payload = {k: payload[k] for k in ("errorMessage", "errorType", "stackTrace") if k in payload}
        self.error_type = str(payload.get("errorType", "Unknown"))
        self.loggable = str(payload.get("loggable", payload.get("errorMessage", "")))
        super().__init__(f"{self.error_type}: {self.loggable}")


def _relay(stream: IO[bytes]) -> None:
    """Copy a worker's output to the stack's stdout, a whole line per write (lines of workers never mix)."""
    with stream:
        for line in stream:
            with _output_lock:
                out = sys.stdout.buffer if hasattr(sys.stdout, "buffer") else None
                if out is not None:
                    out.write(line)
                else:
                    sys.stdout.write(line.decode(errors="replace"))
                sys.stdout.flush()


class Worker:
    """One process, one function, one invoke at a time."""

    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        self.last_used = time.monotonic()
        self.profile = _profile_settings()
        ours, theirs = socket.socketpair()
        try:
            self.process = subprocess.Popen(
                # The function's name is for `ps` (and tests that count a function's workers).
                [sys.executable, "-u", "-P", str(WORKER_SCRIPT), str(theirs.fileno()), environment.name],
                env=dict(environment.variables),
                cwd=environment.paths[0] if environment.paths else None,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                pass_fds=(theirs.fileno(),),
                start_new_session=True,  # Ctrl-C reaches the stack, which stops its workers itself
            )
        finally:
            theirs.close()
        self.channel = ours
        assert self.process.stdout is not None
        threading.Thread(
            target=_relay, args=(self.process.stdout,), name=f"log-{environment.name}", daemon=True
        ).start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def init(self) -> None:
        """The cold start: import the handler. Raises InvokeError when the function cannot start."""
        env = self.environment
        function = {"name": env.name, "arn": env.arn, "memory": env.memory, "timeout": env.timeout}
        init: dict[str, Any] = {"handler": env.handler, "paths": list(env.paths), "function": function}
        if env.permissions is not None:
            init["permissions"] = list(env.permissions)
        if self.profile is not None:
            init["profile"] = self.profile
        protocol.send(self.channel, init)
        answer = self._answer(max(INIT_SECONDS, env.timeout), "init")
        if "initError" in answer:
            raise InvokeError(answer["initError"])

    def invoke(self, event: Any, request_id: str) -> Any:
        """The handler's result; InvokeError for its exception, a timeout or a crash."""
        env = self.environment
        self.last_used = sent = time.monotonic()
        message = {"event": event, "requestId": request_id, "remainingMs": int(env.timeout * 1000)}
        try:
            protocol.send(self.channel, message)
        except OSError as error:
            raise self._exited(request_id) from error
        answer = self._answer(env.timeout, request_id)
        self.last_used = time.monotonic()
        if "profile" in answer:
            _notify(env, request_id, event, sent, answer)
        if "error" in answer:
            raise InvokeError(answer["error"])
        return answer.get("result")

    def _answer(self, seconds: float, request_id: str) -> dict[str, Any]:
        self.channel.settimeout(seconds)
        try:
            answer = protocol.receive(self.channel)
        except TimeoutError:
            self.kill()
            raise InvokeError(
                {
                    "errorType": "Sandbox.Timedout",
                    "errorMessage": f"RequestId: {request_id} Error: Task timed out after {seconds:.2f} seconds",
                }
            ) from None
        except OSError:
            answer = None
        if answer is None:
            raise self._exited(request_id)
        return answer

    def _exited(self, request_id: str) -> InvokeError:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=2)
        status = self.process.poll()
        self.kill()
        return InvokeError(
            {
                "errorType": "Runtime.ExitError",
                "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: exit status {status}",
            }
        )

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def terminate(self) -> None:
        """Ask to stop (closing the channel ends its loop), without waiting."""
        with contextlib.suppress(OSError):
            self.channel.close()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.channel.close()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)


class Pool:
    """The workers of one function: warm ones reused (most recently used first), new ones started on
    demand up to `size`, invokes beyond that waiting for one to come free."""

    def __init__(self, environment: Environment, size: int) -> None:
        if size < 1:
            raise ValueError("a pool needs at least one worker")
        self.environment = environment
        self.size = size
        self._idle: list[Worker] = []
        self._busy: set[Worker] = set()
        self._starting = 0
        self._closed = False
        self._changed = threading.Condition()
        self.cold_starts = 0

    def _acquire(self) -> Worker:
        with self._changed:
            while True:
                if self._closed:
                    raise InvokeError({"errorType": "ServiceException", "errorMessage": "the local stack is stopping"})
                while self._idle:
                    candidate = self._idle.pop()
                    if candidate.alive:
                        self._busy.add(candidate)
                        return candidate
                if len(self._busy) + self._starting < self.size:
                    self._starting += 1
                    break
                self._changed.wait()
        try:
            worker = Worker(self.environment)
        except BaseException:
            with self._changed:
                self._starting -= 1
                self._changed.notify()
            raise
        with self._changed:
            self._starting -= 1
            self._busy.add(worker)
            self.cold_starts += 1
            if self._closed:
                worker.kill()
        try:
            worker.init()
        except BaseException:
            self._release(worker, healthy=False)
            raise
        return worker

    def _release(self, worker: Worker, *, healthy: bool) -> None:
        with self._changed:
            self._busy.discard(worker)
            if healthy and worker.alive and not self._closed:
                self._idle.append(worker)
            else:
                worker.kill()
            self._changed.notify()

    def invoke(self, event: Any, request_id: str | None = None) -> Any:
        request_id = request_id or str(uuid.uuid4())
        worker = self._acquire()
        healthy = False
        try:
            result = worker.invoke(event, request_id)
            healthy = True
            return result
        except InvokeError as error:
            healthy = error.error_type not in ("Sandbox.Timedout", "Runtime.ExitError")
            raise
        finally:
            self._release(worker, healthy=healthy)

    @property
    def running(self) -> int:
        with self._changed:
            return len(self._idle) + len(self._busy)

    def reap(self, idle_seconds: float) -> int:
        """Stop workers idle for longer than `idle_seconds` (Lambda reclaims idle environments too)."""
        now = time.monotonic()
        with self._changed:
            stale = [w for w in self._idle if now - w.last_used > idle_seconds or not w.alive]
            self._idle = [w for w in self._idle if w not in stale]
        for worker in stale:
            worker.kill()
        return len(stale)

    def close(self) -> list[Worker]:
        """Stop taking invokes; returns every worker, for the caller to stop."""
        with self._changed:
            self._closed = True
            workers = [*self._idle, *self._busy]
            self._idle.clear()
            self._changed.notify_all()
        return workers


class Pools:
    """Every function's pool, started lazily, reaped when idle, stopped together."""

    def __init__(
        self,
        environments: Iterable[Environment],
        *,
        size: int = DEFAULT_SIZE,
        idle_seconds: float = DEFAULT_IDLE_SECONDS,
    ) -> None:
        self.pools = {env.name: Pool(env, size) for env in environments}
        self.idle_seconds = idle_seconds
        self._stopped = threading.Event()
        self._reaper = threading.Thread(target=self._reap, name="worker-reaper", daemon=True)
        self._reaper.start()

    def invoke(self, name: str, event: Any, request_id: str | None = None) -> Any:
        return self.pools[name].invoke(event, request_id)

    def _reap(self) -> None:
        while not self._stopped.wait(min(30.0, self.idle_seconds)):
            for pool in self.pools.values():
                pool.reap(self.idle_seconds)

    def running(self) -> dict[str, int]:
        return {name: pool.running for name, pool in self.pools.items() if pool.running}

    def stop(self, grace: float = 3.0) -> None:
        """Stop every worker: SIGTERM to all at once, SIGKILL to those still there after `grace`."""
        self._stopped.set()
        workers = [worker for pool in self.pools.values() for worker in pool.close()]
        for worker in workers:
            worker.terminate()
        deadline = time.monotonic() + grace
        for worker in workers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            if worker.alive:
                worker.kill()
