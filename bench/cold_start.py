"""Cold-start benchmark: how long each Lambda handler module takes to import in a fresh interpreter,
next to a baseline of `import boto3` plus one DynamoDB client, measured side by side in one run.

It reads the built template (`make build` first: the build output carries the bytecode we ship) and
imports each function from its build folder with the common layer's own code. Third-party packages
come from the venv, because the layer's wheels are built for arm64 and this machine may not be.

    python bench/cold_start.py [--rounds N]
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / ".aws-sam" / "build"
BASELINE = "baseline: boto3 + DynamoDB client"
TIMER = "import time; t = time.perf_counter(); {statement}; import sys; sys.stdout.write(repr(time.perf_counter() - t))"


def functions_in_build() -> dict[str, tuple[Path, str]]:
    """Logical id → (build folder, handler module) for every function of the built template."""
    template = yaml.safe_load((BUILD / "template.yaml").read_text())
    found = {}
    for name, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            props = resource["Properties"]
            found[name] = (BUILD / props["CodeUri"], props["Handler"].rsplit(".", 1)[0])
    return dict(sorted(found.items()))


def measure(statement: str, path: list[Path]) -> float:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in path), "AWS_DEFAULT_REGION": "eu-west-1"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    out = subprocess.run(
        [sys.executable, "-c", TIMER.format(statement=statement)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    if not (BUILD / "template.yaml").exists():
        sys.exit("no build output: run `make build` first")

    with tempfile.TemporaryDirectory() as layer_code:
        # Only the layer's own package: its third-party wheels are arm64.
        (Path(layer_code) / "common").symlink_to(BUILD / "CommonLayer" / "python" / "common")
        targets: dict[str, tuple[str, list[Path]]] = {
            BASELINE: ("import boto3; boto3.client('dynamodb')", []),
            "for reference: Powertools Tracer": ("from aws_lambda_powertools import Tracer; Tracer()", []),
        }
        for name, (folder, module) in functions_in_build().items():
            targets[name] = (f"import {module}", [folder, Path(layer_code)])

        samples: dict[str, list[float]] = {name: [] for name in targets}
        for _ in range(args.rounds):
            order = list(targets)
            random.shuffle(order)  # side by side, in a new order each round
            for name in order:
                statement, path = targets[name]
                samples[name].append(measure(statement, path))

    baseline = statistics.median(samples[BASELINE])
    print(f"Cold-start imports, median of {args.rounds} fresh interpreters (Python {sys.version.split()[0]})\n")
    print("| function | handler import (ms) | × baseline |")
    print("|---|---:|---:|")
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"| {name} | {median * 1000:.0f} | {median / baseline:.2f} |")


if __name__ == "__main__":
    main()
