"""Generate the clients a storefront developer would generate from `docs/openapi.json`, and fail on
anything short of a clean result: `python -m clients.check [--document docs/openapi.json]` (`make clients`).

- Python: `openapi-python-client` (pinned in requirements-dev.txt). It exits 0 even when it skips an
  endpoint or drops a response ("Warning(s) encountered ... some pieces may be missing"), so its output
  is read: any line but "Generating <path>" is a finding. Then every operation of the document must have
  its module with `sync_detailed` (a skipped endpoint leaves none).
- TypeScript: `openapi-typescript` (pinned in package.json) prints its lint warnings with ⚠ and exits 0;
  any output beyond its banner lines is a finding. Then `tsc --strict --noEmit` compiles
  `clients/typescript/check.ts`, which uses the generated types the way a storefront does.

The generated code goes to a git-ignored build directory, never into the repository."""

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from openapi_python_client.strings import PythonIdentifier

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT = ROOT / "docs" / "openapi.json"
BUILD = ROOT / "build" / "clients"
PACKAGE = "storekeeper_client"
TYPES_FILE = "openapi.ts"
TIMEOUT = 300
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
NODE_BIN = ROOT / "node_modules" / ".bin"


class GeneratorFindings(Exception):
    """A generator warned, skipped an operation, or the TypeScript check did not compile."""


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(METHOD, path, operation) for every operation of the document."""
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield method.upper(), path, item[method]


def operation_module(operation: dict[str, Any]) -> str:
    """The generated module of an operation, relative to the package (`api.<tag>.<operationId>`), named
    by the generator's own rule (first tag, else "default"; snake_case; its prefixes for bad names)."""
    tag = PythonIdentifier(value=(operation.get("tags") or ["default"])[0], prefix="tag")
    name = PythonIdentifier(value=operation["operationId"], prefix="field_")
    return f"api.{tag}.{name}"


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    # The Python generator formats its output with ruff from PATH: the venv's, pinned.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    env["NO_COLOR"] = "1"
    return subprocess.run(  # noqa: S603 -- our own tools, an argument list, no shell
        command, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, check=False, env=env
    )


def generate_python(document: Path, out: Path) -> Path:
    """Generate the Python client package into `out/storekeeper_client` (replaced) and return its path;
    raise GeneratorFindings on any warning or any operation left without a module."""
    package = out / PACKAGE
    out.mkdir(parents=True, exist_ok=True)
    generator = Path(sys.executable).parent / "openapi-python-client"
    command = [str(generator), "generate", "--path", str(document), "--meta", "none"]
    command += ["--output-path", str(package), "--overwrite"]
    done = _run(command, cwd=out)
    output = (done.stdout + done.stderr).strip()
    if done.returncode != 0 or python_findings(output):
        raise GeneratorFindings(f"openapi-python-client (exit {done.returncode}):\n{output}")
    missing: list[str] = []
    for method, path, op in operations(json.loads(document.read_text())):
        if "operationId" not in op:
            missing.append(f"{method} {path}: no operationId (the generator would invent the method's name)")
        elif "def sync_detailed(" not in _read(package / (operation_module(op).replace(".", "/") + ".py")):
            missing.append(f"{method} {path}: no {PACKAGE}.{operation_module(op)}.sync_detailed")
    if missing:
        raise GeneratorFindings("operations the Python client does not have:\n" + "\n".join(missing))
    return package


def python_findings(output: str) -> list[str]:
    """The lines of openapi-python-client's output beyond "Generating <path>": its warnings, the schemas
    it could not parse, the endpoints and responses it left out."""
    return [line for line in output.splitlines() if line.strip() and not line.startswith("Generating ")]


def _read(path: Path) -> str:
    return path.read_text() if path.is_file() else ""


def generate_typescript(document: Path, out: Path) -> Path:
    """Generate `out/openapi.ts` with openapi-typescript; raise GeneratorFindings on any warning."""
    out.mkdir(parents=True, exist_ok=True)
    target = out / TYPES_FILE
    done = _run([str(NODE_BIN / "openapi-typescript"), str(document), "--output", str(target)], cwd=ROOT)
    if done.returncode != 0 or typescript_findings(done.stdout + done.stderr) or not target.is_file():
        raise GeneratorFindings(f"openapi-typescript (exit {done.returncode}):\n{done.stdout}{done.stderr}")
    return target


def typescript_findings(output: str) -> list[str]:
    """The lines of openapi-typescript's output beyond its two banner lines ("✨ openapi-typescript X",
    "🚀 source → target"): its lint warnings (" ⚠  ...") and errors (" ✘  ...")."""
    banner = ("✨ openapi-typescript", "🚀 ")
    return [line for line in output.splitlines() if line.strip() and not line.lstrip().startswith(banner)]


def typecheck_typescript() -> None:
    """`tsc --strict --noEmit` over clients/typescript/check.ts, which imports the types `make clients`
    writes to build/clients/typescript/openapi.ts; raise GeneratorFindings when it does not compile."""
    project = ROOT / "clients" / "typescript" / "tsconfig.json"
    done = _run([str(NODE_BIN / "tsc"), "--project", str(project), "--strict", "--noEmit"], cwd=ROOT)
    if done.returncode != 0:
        raise GeneratorFindings(f"tsc --strict (exit {done.returncode}):\n{done.stdout}{done.stderr}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate the clients from the document; fail on any warning.")
    parser.add_argument("--document", type=Path, default=DOCUMENT)
    args = parser.parse_args(argv)
    failures: list[str] = []
    try:
        package = generate_python(args.document, BUILD / "python")
        print(f"openapi-python-client: no warning, every operation generated ({package.relative_to(ROOT)})")
    except GeneratorFindings as findings:
        failures.append(str(findings))
    try:
        types = generate_typescript(args.document, BUILD / "typescript")
        typecheck_typescript()
        print(f"openapi-typescript: no warning ({types.relative_to(ROOT)}); tsc --strict compiles check.ts")
    except GeneratorFindings as findings:
        failures.append(str(findings))
    for failure in failures:
        print(failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
