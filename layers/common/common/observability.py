"""Logger and Metrics with the project's defaults.

Tracer is left out on purpose: importing it costs about 0.24 s of every cold start (see
docs/performance.md); `Tracing: Active` in the template still gives X-Ray the request segments.
"""

from aws_lambda_powertools import Logger, Metrics


def make_logger(service: str) -> Logger:
    # The service is named in code, not by POWERTOOLS_SERVICE_NAME: the local stack runs every
    # function in one process, where one environment variable cannot name them all.
    return Logger(service=service)


def make_metrics(service: str) -> Metrics:
    return Metrics(service=service)
