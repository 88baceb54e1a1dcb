"""The ports of `inventory.ports` over AWS (the bus is `common.events.publish`)."""

from common.workflow import sfn_client
from inventory.settings import settings


def workflow_is_running(order_id: str) -> bool:
    """True while the order's execution (named after the order id) runs; it may still use its hold."""
    machine = settings().order_state_machine_arn
    if not machine:
        return False
    execution = machine.replace(":stateMachine:", ":execution:") + f":{order_id}"
    client = sfn_client()
    try:
        return client.describe_execution(executionArn=execution)["status"] == "RUNNING"
    except client.exceptions.ExecutionDoesNotExist:
        return False
