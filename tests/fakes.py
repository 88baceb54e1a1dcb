"""Fakes of the ports several domains share: the event publisher, the workflow's callbacks (payments), and
the workflow (orders: those callbacks plus starting an execution). One of each for the whole suite; a
domain's own ports (its gateway, its pricing) keep their fakes in its conftest."""

import threading
from dataclasses import dataclass, field
from typing import Any

from common.events import DomainEvent


class FakePublisher:
    """Our `Publisher` port (`Callable[[list[DomainEvent]], None]`): remembers every event it is handed,
    in order. Thread-safe, for the tests that race use cases."""

    def __init__(self) -> None:
        self.events: list[DomainEvent] = []
        self._lock = threading.Lock()

    def __call__(self, events: list[DomainEvent]) -> None:
        with self._lock:
            self.events.extend(events)

    def of_type(self, detail_type: str) -> list[DomainEvent]:
        return [event for event in self.events if event.detail_type == detail_type]

    @property
    def types(self) -> list[str]:
        return [event.detail_type for event in self.events]


@dataclass
class FakeCallbacks:
    """Our `Callbacks` port (Step Functions' task tokens): remembers every resume, in order. Thread-safe."""

    succeeded: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    failed: list[tuple[str, str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def succeed(self, token: str, output: dict[str, Any]) -> bool:
        with self._lock:
            self.succeeded.append((token, output))
        return True

    def fail(self, token: str, error: str, cause: str) -> bool:
        with self._lock:
            self.failed.append((token, error, cause))
        return True


@dataclass
class FakeWorkflow(FakeCallbacks):
    """Our `Workflow` port: the callbacks, and every execution started, in order. Thread-safe."""

    started: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def start(self, execution_name: str, execution_input: dict[str, Any]) -> None:
        with self._lock:
            self.started.append((execution_name, execution_input))
