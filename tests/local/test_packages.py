"""What each function ships, read from template.yaml as `sam build` reads it: the requirements of its
CodeUri plus those of its layers. Heavy libraries go only where they are used."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from local.template import Template

ROOT = Path(__file__).resolve().parents[2]
CHARTS = {"matplotlib", "numpy"}


@pytest.fixture(scope="module")
def template() -> Template:
    return Template(ROOT / "template.yaml")


def _requirements(folder: Path) -> set[str]:
    """The distribution names a folder's requirements.txt installs (its `-r` includes followed)."""
    path = folder / "requirements.txt"
    names: set[str] = set()
    if not path.exists():
        return names
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r"):
            names |= _requirements((folder / line[2:].strip()).parent)
        elif line:
            names.add(re.split(r"[\s\[<>=!~;]", line, maxsplit=1)[0].lower())
    return names


def shipped(template: Template) -> dict[str, set[str]]:
    layers = {
        logical_id: props["ContentUri"] for logical_id, props in template.of_type("AWS::Serverless::LayerVersion")
    }
    found: dict[str, set[str]] = {}
    for logical_id, props in template.functions():
        names = _requirements(ROOT / props["CodeUri"])
        for layer in props.get("Layers") or []:
            names |= _requirements(ROOT / layers[layer["Ref"]])
        found[logical_id] = names
    return found


def test_only_the_report_run_function_ships_the_chart_library(template: Template) -> None:
    # Given what every function installs
    packages = shipped(template)

    # Then matplotlib (and numpy with it) reach the one function that draws, and it does get them
    drawing = {logical_id for logical_id, names in packages.items() if names & CHARTS}
    assert drawing == {"ReportRunFunction"}
    assert "matplotlib" in packages["ReportRunFunction"]


def test_the_small_reports_functions_never_import_the_chart_library() -> None:
    # Given a fresh interpreter with the reports package on its path (as Lambda would have it)
    code = (
        "import sys\n"
        "import reports.admin_api, reports.jobs, reports.public_api\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'numpy'))\n"
        "print(','.join(loaded))\n"
    )
    paths = [str(ROOT / "functions" / "reports"), str(ROOT / "layers" / "common")]
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": ":".join(paths), "PATH": "/usr/bin:/bin", "POWERTOOLS_METRICS_DISABLED": "true"},
        check=False,
    )

    # Then the handlers import without them: they are loaded only when a chart is drawn
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""
