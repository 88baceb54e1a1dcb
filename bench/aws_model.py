"""What the AWS-model benchmarks (`bench/contention.py`, `bench/hot_coupon.py`) share: a table of the template
on the local stack's AWS, DynamoDB as the functions reach it, and the moto version their headers print. The
AWS model's counters are `local.aws.MotoServer.dynamodb_counters`. Imported by the benchmarks after they
put the repository and the layer on `sys.path`."""

from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from common.dynamo import AWS_CONFIG
from local.aws import client, table_request
from local.template import REGION, Template

ROOT = Path(__file__).resolve().parent.parent


def table(endpoint: str, logical_id: str, name: str) -> None:
    """Create the template's table `logical_id` (e.g. `InventoryTable`) as `name`."""
    props = dict(Template(ROOT / "template.yaml").of_type("AWS::DynamoDB::Table"))[logical_id]
    client("dynamodb", endpoint).create_table(**table_request(name, props))


def app_client(endpoint: str, buyers: int) -> Any:
    """DynamoDB as the functions reach it: the app's retry policy (`common.dynamo.AWS_CONFIG`)."""
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=REGION,
        config=AWS_CONFIG.merge(Config(max_pool_connections=buyers)),
    )


def moto_version() -> str:
    import moto

    return str(moto.__version__)
