"""Report runs through the API, as API Gateway calls it: a run is queued (202) and handed to the run
function asynchronously, followed on `GET /reports/runs/{runId}` until DONE, and its files are fetched
through the API, which redirects to a link signed per request. The email carries the files attached,
never a presigned link (one signed with a Lambda role's credentials dies within hours)."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlparse

import boto3
import pytest
import requests
from botocore.stub import ANY, Stubber

from reports import adapters, jobs
from reports import admin_api as api
from reports.adapters import LambdaRunner
from reports.logic import runs
from reports.models import Kind, ReportKind
from tests.proxy import Answer

from .conftest import BUCKET, RECIPIENTS, REGION, SENDER, TABLE, World, order, paid

DAY = datetime(2030, 3, 31, 10, 0, tzinfo=UTC)
PERIOD = "2030-03-31"
RUN_FUNCTION = "storekeeper-report-run-test"


@dataclass
class FakeRunner:
    """Records what the API hands to the run function (Lambda would queue it as an Event)."""

    started: list[dict[str, str]] = field(default_factory=list)

    def start(self, kind: Kind, period: str, run_id: str) -> None:
        self.started.append({"kind": kind, "period": period, "runId": run_id})


Call = Callable[..., Answer]


@pytest.fixture
def runner(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeRunner]:
    for name, value in {
        "REPORTS_TABLE": TABLE,
        "REPORTS_BUCKET": BUCKET,
        "REPORT_RUN_FUNCTION": RUN_FUNCTION,
        "REPORT_SENDER": SENDER,
        "REPORT_RECIPIENTS": ",".join(RECIPIENTS),
        "SHOP_TIMEZONE": "UTC",
        "SHOP_CURRENCY": "EUR",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    for cached in (adapters._s3, adapters._ses):
        cached.cache_clear()
    fake = FakeRunner()
    monkeypatch.setattr(api, "runner", lambda: fake)
    yield fake
    for cached in (adapters._s3, adapters._ses):
        cached.cache_clear()


@pytest.fixture
def call(runner: FakeRunner, api_event: Callable[..., dict[str, Any]], lambda_context: Any) -> Call:
    def request(method: str, path: str, *, body: Any = None, groups: list[str] | None = None) -> Answer:
        event = api_event(method, path, body=body, groups=["admin"] if groups is None else groups)
        return Answer.of(api.handler(event, lambda_context))

    return request


def _deliver_to_run_function(started: dict[str, str], lambda_context: Any) -> dict[str, Any]:
    """What Lambda does with the queued Event: the run function's handler gets the API's payload."""
    return jobs.run_handler(dict(started), lambda_context)


def test_a_run_is_queued_followed_until_done_and_its_files_fetched_through_the_api(
    world: World, deliver: Callable[..., bool], runner: FakeRunner, call: Call, lambda_context: Any
) -> None:
    # Given a day with an order
    assert deliver(paid(order(customer="ann", lines=[("p_tee", 2, 1500)]), DAY))

    # When an admin asks for its daily report
    asked = call("POST", "/reports/runs", body={"kind": "daily-report", "period": PERIOD})

    # Then the API answers at once: 202, the run QUEUED, where to follow it, and the run function is started
    assert asked.status == 202, asked.body
    run_id = asked.body["runId"]
    assert asked.headers["Location"] == f"/dev/reports/runs/{run_id}"  # behind the stage the request came through
    assert (asked.body["status"], asked.body["period"], asked.body["files"]) == ("QUEUED", PERIOD, [])
    assert runner.started == [{"kind": "daily-report", "period": PERIOD, "runId": run_id}]
    assert call("GET", f"/reports/runs/{run_id}").body["status"] == "QUEUED"
    # Asking again answers the same run and starts nothing more
    again = call("POST", "/reports/runs", body={"kind": "daily-report", "period": PERIOD})
    assert (again.status, again.body["runId"], len(runner.started)) == (202, run_id, 1)
    # Nothing is stored yet
    assert call("GET", f"/reports/runs/{run_id}/files/sales-{PERIOD}.csv").status == 404

    # When Lambda delivers the queued event to the run function
    ran = _deliver_to_run_function(runner.started[0], lambda_context)

    # Then the run is DONE, with its files, each behind this API's path
    assert (ran["runId"], ran["status"]) == (run_id, "DONE")
    done = call("GET", f"/reports/runs/{run_id}").body
    assert (done["status"], done["recipients"]) == ("DONE", RECIPIENTS)
    assert done["startedAt"] <= done["finishedAt"]
    names = {f["name"]: f["url"] for f in done["files"]}
    assert set(names) == {
        f"sales-{PERIOD}.csv",
        f"tax-{PERIOD}.csv",
        f"products-{PERIOD}.csv",
        f"campaigns-{PERIOD}.csv",
        f"payments-{PERIOD}.csv",
        "chart.png",
    }
    assert names[f"sales-{PERIOD}.csv"] == f"/reports/runs/{run_id}/files/sales-{PERIOD}.csv"

    # When the admin follows a file's path
    redirect = call("GET", names[f"sales-{PERIOD}.csv"])

    # Then it is a redirect to a link signed now, for minutes, that fetches the CSV
    assert redirect.status == 302
    link = urlparse(redirect.headers["Location"])
    assert link.path.endswith(f"/daily-report/{PERIOD}/sales-{PERIOD}.csv")
    assert parse_qs(link.query)["X-Amz-Expires"] == ["300"]
    assert redirect.headers["Cache-Control"] == "no-store"
    fetched = requests.get(redirect.headers["Location"], timeout=10)
    assert fetched.status_code == 200
    assert fetched.text.splitlines()[1] == f"{PERIOD},1,2,3000,0,0,3000,3000,EUR,0,0,0"

    # And the email carries the files attached, and no presigned link that would expire
    (mail,) = world.sent()
    attached = {p.get_filename() for p in mail.walk() if p.get_content_disposition() == "attachment"}
    assert attached == {
        f"sales-{PERIOD}.csv",
        f"tax-{PERIOD}.csv",
        f"products-{PERIOD}.csv",
        f"campaigns-{PERIOD}.csv",
        f"payments-{PERIOD}.csv",
    }
    html_part = next(p for p in mail.walk() if p.get_content_type() == "text/html")
    html = bytes(html_part.get_payload(decode=True)).decode()
    assert "href=" not in html and "X-Amz-" not in html and "Signature=" not in html
    assert f"/reports/runs/{run_id}/files/" in html

    # And a repeated event (Lambda may deliver twice) sends nothing more
    assert _deliver_to_run_function(runner.started[0], lambda_context)["status"] == "DONE"
    assert len(world.sent()) == 1


def test_unknown_runs_and_files_are_404_and_only_admins_may_download(runner: FakeRunner, call: Call) -> None:
    # Given a queued run
    run_id = call("POST", "/reports/runs", body={"kind": "daily-report", "period": PERIOD}).body["runId"]
    unknown = "run_" + "0" * 26

    # Then unknown runs and files are 404, a malformed name is 422, and other roles are refused
    assert call("GET", f"/reports/runs/{unknown}/files/sales-{PERIOD}.csv").status == 404
    assert call("GET", f"/reports/runs/{run_id}/files/secret.csv").status == 404
    assert call("GET", f"/reports/runs/{run_id}/files/..%2Fx").status in (404, 422)
    assert call("GET", f"/reports/runs/{run_id}/files/sales-{PERIOD}.csv", groups=["support"]).status == 403
    assert call("GET", f"/reports/runs/{run_id}/files/sales-{PERIOD}.csv", groups=[]).status == 403


def test_a_scheduled_run_takes_a_queued_one_and_the_late_event_sends_nothing(
    world: World, runner: FakeRunner, call: Call, lambda_context: Any
) -> None:
    # Given a run queued through the API whose event has not arrived yet
    queued = call("POST", "/reports/runs", body={"kind": "daily-report", "period": PERIOD}).body

    # When the schedule fires for the same day first
    scheduled = runs.run(world.context(datetime(2030, 4, 1, 6, tzinfo=UTC)), ReportKind.DAILY_REPORT)

    # Then it runs the queued run (same id), and the late event finds it DONE
    assert (scheduled["runId"], scheduled["status"]) == (queued["runId"], "DONE")
    assert _deliver_to_run_function(runner.started[0], lambda_context)["status"] == "DONE"
    assert len(world.sent()) == 1


def test_a_period_that_is_not_one_is_refused_before_anything_is_queued(runner: FakeRunner, call: Call) -> None:
    refused = call("POST", "/reports/runs", body={"kind": "weekly-report", "period": "2030-04-02"})  # a Tuesday
    assert refused.status == 422
    assert runner.started == []


def test_a_run_lambda_would_not_take_is_a_503_and_asking_again_queues_it(
    world: World, monkeypatch: pytest.MonkeyPatch, call: Call
) -> None:
    # Given Lambda throttling the first hand-over, then accepting
    client = boto3.client("lambda", region_name=REGION)
    stub = Stubber(client)
    stub.add_client_error("invoke", "TooManyRequestsException", http_status_code=429)
    expected = {"FunctionName": RUN_FUNCTION, "InvocationType": "Event", "Payload": ANY}
    stub.add_response("invoke", {"StatusCode": 202}, expected)
    monkeypatch.setattr(api, "runner", lambda: LambdaRunner(RUN_FUNCTION, client=client))

    with stub:
        # When an admin asks for a run
        first = call("POST", "/reports/runs", body={"kind": "daily-report", "period": PERIOD})

        # Then it is a 503 (retry), and the run is recorded FAILED, not left QUEUED for nobody
        assert first.status == 503, first.body
        recorded = world.store.run("daily-report", PERIOD)
        assert recorded is not None and recorded["status"] == "FAILED"

        # When the admin asks again
        second = call("POST", "/reports/runs", body={"kind": "daily-report", "period": PERIOD})

        # Then the same run is queued again, handed over as an Event
        assert (second.status, second.body["status"]) == (202, "QUEUED")
        assert second.body["runId"] == recorded["runId"]
        assert "error" not in (world.store.run("daily-report", PERIOD) or {})
        stub.assert_no_pending_responses()


def test_who_may_take_over_a_recorded_run() -> None:
    now = datetime(2030, 4, 1, 6, tzinfo=UTC)
    fresh, stale = "2030-04-01T05:59:00+00:00", "2030-04-01T05:00:00+00:00"

    def run(status: str, at: str = fresh) -> dict[str, Any]:
        return {"status": status, "claimedAt": at}

    queue, start = runs.may_take_over("QUEUED", now), runs.may_take_over("RUNNING", now)
    # A queued run is the run function's to start, not the API's to queue again (unless lost)
    assert (start(run("QUEUED")), queue(run("QUEUED")), queue(run("QUEUED", stale))) == (True, False, True)
    # A running one only once it went stale; a failed one always; a done one never
    assert (start(run("RUNNING")), start(run("RUNNING", stale))) == (False, True)
    assert (queue(run("FAILED")), start(run("FAILED"))) == (True, True)
    assert (queue(run("DONE", stale)), start(run("SENT", stale))) == (False, False)


def test_a_run_asked_again_with_its_key_answers_the_first_run_marked_replayed(
    runner: FakeRunner, api_event: Callable[..., dict[str, Any]], lambda_context: Any
) -> None:
    def ask(body: dict[str, Any], key: str) -> Answer:
        event = api_event("POST", "/reports/runs", body=body, groups=["admin"], headers={"Idempotency-Key": key})
        return Answer.of(api.handler(event, lambda_context))

    # When an admin asks for a run with a key, retries, and reuses the key for another period
    first = ask({"kind": "daily-report", "period": PERIOD}, "run-key-00000001")
    again = ask({"kind": "daily-report", "period": PERIOD}, "run-key-00000001")
    other = ask({"kind": "daily-report", "period": "2030-03-30"}, "run-key-00000001")

    # Then the retry answers the same run where the first pointed, marked replayed, and starts nothing more
    assert first.status == 202, first.body
    assert "Idempotent-Replayed" not in first.headers
    assert (again.status, again.body["runId"], again.headers.get("Idempotent-Replayed")) == (
        202,
        first.body["runId"],
        "true",
    )
    assert again.headers["Location"] == first.headers["Location"] == f"/dev/reports/runs/{first.body['runId']}"
    assert len(runner.started) == 1
    # And another period under the same key is refused
    assert (other.status, other.error_code) == (409, "idempotency_key_reused")
