"""Lambda's SQS event sources in the local stack (`local.sqs`): a rule puts bus events on a queue, a poller
hands them to the function in batches with AWS's SQS event, deletes what succeeded, and leaves failures
to return after the visibility timeout until the redrive policy moves them to the dead-letter queue.

A small template (a bus, rules into queues, functions that record what they receive) runs as a stack in
a subprocess of its own, so moto's patched classes never reach this test process."""

import json
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from local.aws import client
from local.sqs import failed_messages
from tests.e2e.localstack import free_port

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 30.0

TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Bus:
    Type: AWS::Events::EventBus
    Properties:
      Name: test-bus
  DeadLetters:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: test-dlq
  Orders:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: test-orders
      VisibilityTimeout: 2  # short, so 5 receives take seconds; still longer than an invoke here
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt DeadLetters.Arn
        maxReceiveCount: 5
  Bulk:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: test-bulk
      VisibilityTimeout: 30
  OrdersRule:
    Type: AWS::Events::Rule
    Properties:
      EventBusName: !Ref Bus
      EventPattern:
        source: [test.orders]
        detail-type: [OrderPaid]
      Targets:
        - Id: orders
          Arn: !GetAtt Orders.Arn
  Recorder:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: code/
      Handler: recorder.handler
      Runtime: python3.13
      Timeout: 5
      Environment:
        Variables:
          RECORD_DIR: {records}
          SOURCE: orders
          BUSY_SECONDS: "0.3"
      Events:
        Orders:
          Type: SQS
          Properties:
            Queue: !GetAtt Orders.Arn
            BatchSize: 10
            FunctionResponseTypes: [ReportBatchItemFailures]
            ScalingConfig:
              MaximumConcurrency: 2
  BulkRecorder:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: code/
      Handler: recorder.handler
      Runtime: python3.13
      Timeout: 5
      Environment:
        Variables:
          RECORD_DIR: {records}
          SOURCE: bulk
          BUSY_SECONDS: "0"
      Events:
        Bulk:
          Type: SQS
          Properties:
            Queue: !GetAtt Bulk.Arn
            BatchSize: 15
            MaximumBatchingWindowInSeconds: 1
            ScalingConfig:
              MaximumConcurrency: 2
"""

# Records every batch when done (when it started and ended, after BUSY_SECONDS of work); a body
# {"fail": true} is reported as a batch item failure, {"raise": true} fails the whole invoke.
RECORDER = """
import json, os, time, uuid


def handler(event, context):
    started = time.time()
    time.sleep(float(os.environ["BUSY_SECONDS"]))
    record = {"source": os.environ["SOURCE"], "at": started, "end": time.time(), "event": event}
    path = os.path.join(os.environ["RECORD_DIR"], f"{time.time_ns()}-{uuid.uuid4().hex}.json")
    with open(path, "w") as out:
        json.dump(record, out)
    bodies = [(r["messageId"], json.loads(r["body"])) for r in event["Records"]]
    if any(isinstance(body, dict) and body.get("raise") for _, body in bodies):
        raise RuntimeError("this batch fails as a whole")
    return {"batchItemFailures": [{"itemIdentifier": m} for m, b in bodies if isinstance(b, dict) and b.get("fail")]}
"""

DRIVER = """
import json, sys
from pathlib import Path
from local.stack import Options, Stack
template, state_dir, aws_port, api_port = sys.argv[1:5]
options = Options(template=Path(template), state_dir=Path(state_dir), aws_port=int(aws_port),
                  api_port=int(api_port), seed=False, stripe=False, quiet=True)
stack = Stack(options)
stack.start()
try:
    print(json.dumps({"aws": stack.state["awsEndpoint"]}), flush=True)
    sys.stdin.read()
finally:
    stack.stop()
"""


@dataclass
class SmallStack:
    aws: str
    records: Path

    def invokes(self, source: str) -> list[dict[str, Any]]:
        """Every invoke of the function named by `source` that has ended: its event, start and end."""
        found = [json.loads(path.read_text()) for path in sorted(self.records.glob("*.json"))]
        return sorted((f for f in found if f["source"] == source), key=lambda f: f["at"])

    def batches(self, source: str) -> list[dict[str, Any]]:
        """Every event the function named by `source` received, oldest first."""
        return [invoke["event"] for invoke in self.invokes(source)]

    def deliveries(self, source: str) -> list[dict[str, Any]]:
        return [record for batch in self.batches(source) for record in batch["Records"]]

    def queue_url(self, name: str) -> str:
        return str(client("sqs", self.aws).get_queue_url(QueueName=name)["QueueUrl"])


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmallStack]:
    root = tmp_path_factory.mktemp("sqs-stack")
    records = root / "records"
    records.mkdir()
    (root / "code").mkdir()
    (root / "code" / "recorder.py").write_text(textwrap.dedent(RECORDER))
    (root / "template.yaml").write_text(TEMPLATE.replace("{records}", str(records)))
    state_dir = root / "state"
    process = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(root / "template.yaml"), str(state_dir), str(free_port()), str(free_port())],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line, "the small stack did not start"
        yield SmallStack(json.loads(line)["aws"], records)
    finally:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def until(check: Callable[[], Any], what: str, within: float = DEADLINE) -> Any:
    """Poll `check` until it returns something truthy, or fail after `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"not within {within:.0f} s: {what}")


def queue_is_empty(stack: SmallStack, name: str) -> bool:
    attributes: dict[str, str] = client("sqs", stack.aws).get_queue_attributes(
        QueueUrl=stack.queue_url(name),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return attributes == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}


def dead_letters(stack: SmallStack, body: str) -> list[dict[str, Any]]:
    """The dead-letter queue's messages with this body (received, so hidden for a while, and returned)."""
    sqs = client("sqs", stack.aws)
    messages = sqs.receive_message(QueueUrl=stack.queue_url("test-dlq"), MaxNumberOfMessages=10).get("Messages", [])
    return [m for m in messages if m["Body"] == body]


def test_a_message_on_the_queue_reaches_the_function_as_an_sqs_batch_and_is_deleted(stack: SmallStack) -> None:
    # Given a message with an attribute on the polled queue
    body = json.dumps({"hello": uuid.uuid4().hex})
    sent = client("sqs", stack.aws).send_message(
        QueueUrl=stack.queue_url("test-orders"),
        MessageBody=body,
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "greeting"}},
    )
    # When the poller picks it up
    [record] = until(
        lambda: [r for r in stack.deliveries("orders") if r["messageId"] == sent["MessageId"]], "the message's delivery"
    )
    # Then the function got it in AWS's SQS event shape, and the queue no longer holds it
    assert record["body"] == body
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == "arn:aws:sqs:eu-west-1:123456789012:test-orders"
    assert record["awsRegion"] == "eu-west-1"
    assert record["receiptHandle"]
    assert record["md5OfBody"] == sent["MD5OfMessageBody"]
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert {"SentTimestamp", "ApproximateFirstReceiveTimestamp", "SenderId"} <= set(record["attributes"])
    assert record["messageAttributes"]["kind"] == {
        "stringValue": "greeting",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    until(lambda: queue_is_empty(stack, "test-orders"), "the queue to be empty")


def test_reported_failures_return_and_reach_the_dead_letter_queue_after_5_receives(stack: SmallStack) -> None:
    # Given, in one batch, a message the function reports as failed and one it handles
    sqs = client("sqs", stack.aws)
    marker = uuid.uuid4().hex
    failing = json.dumps({"fail": True, "marker": marker})
    fine = json.dumps({"fine": True, "marker": marker})
    sqs.send_message_batch(
        QueueUrl=stack.queue_url("test-orders"),
        Entries=[{"Id": "failing", "MessageBody": failing}, {"Id": "fine", "MessageBody": fine}],
    )

    # When the poller has retried the failing one until the redrive policy moves it
    [dead] = until(lambda: dead_letters(stack, failing), "the failing message in the dead-letter queue")

    # Then it was received exactly 5 times, the handled one once, and nothing of either is left
    counts = [r["attributes"]["ApproximateReceiveCount"] for r in stack.deliveries("orders") if r["body"] == failing]
    assert counts == ["1", "2", "3", "4", "5"]
    assert [r["body"] for r in stack.deliveries("orders") if r["body"] == fine] == [fine]
    assert any({failing, fine} <= {r["body"] for r in batch["Records"]} for batch in stack.batches("orders"))
    sqs.delete_message(QueueUrl=stack.queue_url("test-dlq"), ReceiptHandle=dead["ReceiptHandle"])
    until(lambda: queue_is_empty(stack, "test-orders"), "the queue to be empty")


def test_a_batch_whose_invoke_fails_returns_whole(stack: SmallStack) -> None:
    # Given a message that makes the function raise
    sqs = client("sqs", stack.aws)
    body = json.dumps({"raise": True, "marker": uuid.uuid4().hex})
    sqs.send_message(QueueUrl=stack.queue_url("test-orders"), MessageBody=body)
    # When the invoke fails, then the message comes back after the visibility timeout, until the redrive
    # policy moves it to the dead-letter queue
    until(
        lambda: [r for r in stack.deliveries("orders") if r["body"] == body][1:],
        "the message's second delivery",
    )
    [dead] = until(lambda: dead_letters(stack, body), "the message in the dead-letter queue")
    counts = [r["attributes"]["ApproximateReceiveCount"] for r in stack.deliveries("orders") if r["body"] == body]
    assert counts == ["1", "2", "3", "4", "5"]
    sqs.delete_message(QueueUrl=stack.queue_url("test-dlq"), ReceiptHandle=dead["ReceiptHandle"])


def test_a_batch_is_gathered_over_several_receives_and_never_exceeds_the_batch_size(stack: SmallStack) -> None:
    # Given 25 messages at once on a queue polled with BatchSize 15 (SQS hands out 10 per receive)
    sqs = client("sqs", stack.aws)
    bodies = [json.dumps({"n": n, "marker": uuid.uuid4().hex}) for n in range(25)]
    for start in range(0, 25, 10):
        chunk = bodies[start : start + 10]
        sqs.send_message_batch(
            QueueUrl=stack.queue_url("test-bulk"),
            Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(chunk)],
        )
    # When all arrived
    wanted = set(bodies)

    def delivered() -> list[list[str]]:
        batches = [[r["body"] for r in b["Records"] if r["body"] in wanted] for b in stack.batches("bulk")]
        batches = [b for b in batches if b]
        return batches if sum(len(b) for b in batches) >= 25 else []

    batches = until(delivered, "all 25 messages")
    # Then each once, in batches of at most 15, one of them larger than a single receive
    assert sorted(body for batch in batches for body in batch) == sorted(bodies)
    assert max(len(batch) for batch in batches) <= 15
    assert max(len(batch) for batch in batches) > 10
    until(lambda: queue_is_empty(stack, "test-bulk"), "the queue to be empty")


def test_events_from_the_bus_arrive_whole_in_the_body_none_lost_in_a_burst(stack: SmallStack) -> None:
    # Given 60 events put on the bus at once, which the rule sends to the polled queue
    events = client("events", stack.aws)
    marker = uuid.uuid4().hex
    for start in range(0, 60, 10):
        entries = [
            {
                "Source": "test.orders",
                "DetailType": "OrderPaid",
                "Detail": json.dumps({"orderId": f"o{n}", "marker": marker}),
                "EventBusName": "test-bus",
            }
            for n in range(start, start + 10)
        ]
        assert events.put_events(Entries=entries)["FailedEntryCount"] == 0

    # When the function has received them
    def received() -> list[dict[str, Any]]:
        bodies = [json.loads(r["body"]) for r in stack.deliveries("orders")]
        mine = [b for b in bodies if isinstance(b.get("detail"), dict) and b["detail"].get("marker") == marker]
        return mine if len(mine) >= 60 else []

    bodies = until(received, "the 60 events")
    # Then each body is the whole EventBridge event, each event once
    assert sorted(b["detail"]["orderId"] for b in bodies) == sorted(f"o{n}" for n in range(60))
    body = bodies[0]
    assert set(body) == {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}
    assert (body["source"], body["detail-type"], body["account"], body["region"]) == (
        "test.orders",
        "OrderPaid",
        "123456789012",
        "eu-west-1",
    )
    assert body["time"].endswith("Z") and "T" in body["time"]
    until(lambda: queue_is_empty(stack, "test-orders"), "the queue to be empty")
    # And never more than MaximumConcurrency (2) batches at once, though the burst kept 2 busy
    spans = [(i["at"], i["end"]) for i in stack.invokes("orders")]
    at_once = max(sum(1 for start, end in spans if start <= moment < end) for moment, _ in spans)
    assert at_once == 2


@pytest.mark.parametrize(
    ("answer", "failed"),
    [
        (None, set()),
        ({}, set()),
        ({"batchItemFailures": []}, set()),
        ({"batchItemFailures": None}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "b"}]}, {"b"}),
        ({"batchItemFailures": [{"itemIdentifier": "x"}]}, {"a", "b"}),  # not a message of the batch
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, {"a", "b"}),
        ({"batchItemFailures": [{"id": "a"}]}, {"a", "b"}),  # a bad key name
        ("not an object", {"a", "b"}),
    ],
)
def test_a_batch_item_failures_answer_is_read_as_lambda_reads_it(answer: Any, failed: set[str]) -> None:
    assert failed_messages(answer, ["a", "b"]) == failed
