"""Load test on the local stack with Locust: shoppers browse, price carts and check out (paying at the
local Stripe) at once, for a bounded time; prints p50/p95 per route and the errors.

The stack runs in this process with the demo shop (as `make run` starts it); Locust runs headless from
its own venv (`.tools/locust`, `make install`) with `bench/locustfile.py`, which holds the traffic mix and
says why. This side hands it the catalog and one customer's ID token per shopper, then reads Locust's CSV.

    python bench/load.py [--duration 60] [--warmup 15] [--users 20] [--spawn-rate 4]

The warm-up runs the same traffic first and drops its times (not its errors): the workers' cold starts
belong to `bench/cold_start.py`, not to every route's p95.
"""

import argparse
import contextlib
import csv
import json
import os
import subprocess
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from local import stack as local_stack  # noqa: E402
from local.cognito import token_for  # noqa: E402
from local.demo_data import PRODUCTS  # noqa: E402
from local.stripe import SECRET_KEY  # noqa: E402

LOCUST = ROOT / ".tools" / "locust" / "bin" / "locust"
LOCUSTFILE = ROOT / "bench" / "locustfile.py"
DYNAMODB_COUNTERS = "/_storekeeper/dynamodb"
"""Where the AWS model of the local DynamoDB counts throttled requests and transaction conflicts."""
SEARCHES = ("cotton", "wool", "skillet", "notebook", "tea", "linen", "mug", "lamp")
"""Words shoppers search for, each in one to four demo products' names, descriptions or tags."""


@dataclass(frozen=True)
class RouteStats:
    kind: str
    """The HTTP method, or `CHECKOUT` for a step of a checkout."""
    name: str
    requests: int
    failures: int
    p50_ms: float
    p95_ms: float


@dataclass(frozen=True)
class Failure:
    kind: str
    name: str
    error: str
    occurrences: int


@dataclass(frozen=True)
class Report:
    seconds: int
    rows: list[RouteStats]
    failures: list[Failure]

    @property
    def errors(self) -> int:
        return sum(row.failures for row in self.rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=60, help="seconds of load measured (default 60)")
    parser.add_argument(
        "--warmup", type=int, default=15, help="seconds of the same load first, its times dropped (default 15)"
    )
    parser.add_argument("--users", type=int, default=20, help="concurrent shoppers (default 20)")
    parser.add_argument("--spawn-rate", type=float, default=4, help="shoppers started per second (default 4)")
    parser.add_argument(
        "--dynamodb-model",
        choices=("serial", "aws"),
        default=os.environ.get("LOCAL_DYNAMODB_MODEL", "serial"),
        help="the local DynamoDB: serialised (default) or with AWS's per-item limits and conflicts",
    )
    args = parser.parse_args()
    if not LOCUST.exists():
        sys.exit(f"Locust is not installed at {LOCUST}: run `make install`")
    with contextlib.redirect_stdout(sys.stderr):  # the functions' output (relayed to stdout) is not the table
        warmup, report, dynamodb = measure(args)
    print(
        f"Load test on the local stack: {args.users} shoppers (started {args.spawn_rate:g}/s), "
        f"{args.duration} s measured after {args.warmup} s of warm-up, DynamoDB model {args.dynamodb_model}\n"
    )
    print(render(report, warmup_errors=warmup.errors))
    if dynamodb is not None:
        throttled, conflicts = dynamodb["throttled"], dynamodb["conflicts"]
        print(f"DynamoDB (AWS model), measured part: {throttled} requests throttled, {conflicts} transaction conflicts")
    for failure in warmup.failures + report.failures:
        print(f"  {failure.occurrences}× {failure.kind} {failure.name}: {failure.error}")


def measure(args: argparse.Namespace) -> tuple[Report, Report, dict[str, Any] | None]:
    """Start the stack with the demo shop, warm it up, measure; the AWS model's counters of the measured part."""
    with tempfile.TemporaryDirectory() as state_dir:
        options = local_stack.Options.on_free_ports(
            Path(state_dir),
            quiet=True,
            dynamodb_model=args.dynamodb_model,
        )
        stack = local_stack.Stack(options)
        stack.start()
        try:
            config = load_config(stack.state, args.users)
            warmup = run_locust(config, Path(state_dir) / "warmup", args.warmup, args.users, args.spawn_rate)
            counters = f"{stack.state['awsEndpoint']}{DYNAMODB_COUNTERS}"
            if args.dynamodb_model == "aws":
                requests.post(counters, timeout=10).raise_for_status()
            report = run_locust(config, Path(state_dir) / "load", args.duration, args.users, args.spawn_rate)
            dynamodb = requests.get(counters, timeout=10).json() if args.dynamodb_model == "aws" else None
        finally:
            stack.stop()
    return warmup, report, dynamodb


def load_config(state: dict[str, Any], users: int) -> dict[str, Any]:
    """What the locustfile needs: the addresses, the seeded catalog and a customer's token per shopper."""
    api = state["apiUrl"]
    page = requests.get(f"{api}/products", params={"limit": 100}, timeout=30)
    page.raise_for_status()
    tokens = [
        token_for(state["awsEndpoint"], state["userPoolId"], state["userPoolClientId"], f"shopper{n}@example.com")
        for n in range(users)
    ]
    return {
        "apiUrl": api,
        "stripeUrl": state["stripeUrl"],
        "stripeKey": SECRET_KEY,
        "productIds": [item["productId"] for item in page.json()["items"]],
        "skus": [variant["sku"] for product in PRODUCTS for variant in product["variants"]],
        "categories": sorted({product["category"] for product in PRODUCTS}),
        "searches": list(SEARCHES),
        "tokens": tokens,
    }


def run_locust(config: dict[str, Any], work_dir: Path, seconds: int, users: int, spawn_rate: float) -> Report:
    """Run the locustfile headless for `seconds` with `config`; its stats, read from Locust's CSV files."""
    work_dir.mkdir(parents=True, exist_ok=True)
    config_file = work_dir / "config.json"
    config_file.write_text(json.dumps(config), encoding="utf-8")
    prefix = work_dir / "locust"
    command = [
        str(LOCUST),
        *("-f", str(LOCUSTFILE), "--headless", "--only-summary", "--loglevel", "WARNING"),
        *("-u", str(users), "-r", str(spawn_rate), "-t", f"{seconds}s", "--stop-timeout", "10"),
        *("--csv", str(prefix)),
    ]
    environment = {**os.environ, "LOAD_CONFIG": str(config_file)}
    # Locust exits 1 when any request failed: the report counts those, so only missing stats are an error here.
    done = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=seconds + 120, check=False)
    stats, failures = Path(f"{prefix}_stats.csv"), Path(f"{prefix}_failures.csv")
    if not stats.exists():
        raise RuntimeError(f"Locust wrote no stats (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return Report(seconds, read_stats(stats), read_failures(failures))


def read_stats(path: Path) -> list[RouteStats]:
    """Locust's `<prefix>_stats.csv`: a row per name and type; its `Aggregated` row is left out."""
    with path.open(encoding="utf-8", newline="") as stats:
        return [
            RouteStats(
                kind=row["Type"],
                name=row["Name"],
                requests=int(row["Request Count"]),
                failures=int(row["Failure Count"]),
                p50_ms=_number(row["50%"]),
                p95_ms=_number(row["95%"]),
            )
            for row in csv.DictReader(stats)
            if row["Name"] != "Aggregated"
        ]


def read_failures(path: Path) -> list[Failure]:
    """Locust's `<prefix>_failures.csv`: each distinct error once, with how often it happened."""
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as failures:
        return [
            Failure(row["Method"], row["Name"], row["Error"], int(row["Occurrences"]))
            for row in csv.DictReader(failures)
        ]


def _number(text: str) -> float:
    return float(text) if text not in ("", "N/A") else float("nan")


def render(report: Report, warmup_errors: int = 0) -> str:
    """The table `make bench` prints: a row per route, then the checkout's two waits, then the totals."""
    rows = sorted(report.rows, key=lambda r: (r.kind == "CHECKOUT", r.name, r.kind))
    lines = ["| route | requests | p50 (ms) | p95 (ms) | errors |", "|---|---:|---:|---:|---:|"]
    for row in rows:
        name = f"checkout: {row.name}" if row.kind == "CHECKOUT" else f"{row.kind} {row.name}"
        lines.append(f"| {name} | {row.requests} | {row.p50_ms:.0f} | {row.p95_ms:.0f} | {row.failures} |")
    requests_made = sum(r.requests for r in rows if r.kind != "CHECKOUT")
    lines.append(f"| **all requests** | **{requests_made}** ({requests_made / report.seconds:.1f}/s) | | | |")
    lines.append(f"\nerrors: {report.errors} (warm-up: {warmup_errors})")
    return "\n".join(lines)


if __name__ == "__main__":
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"  # metrics print to stdout, where the table goes
    warnings.filterwarnings("ignore")
    main()
    sys.stdout.flush()
