"""The console downloads a report run's file with `fetch`: the API's 302 sends the browser to a signed S3
link with `Origin: null` (a cross-origin redirect taints the origin), so the reports bucket must answer
that read with CORS, or the download works locally (moto allows every origin) and fails on AWS."""

from pathlib import Path

from local.template import Template

ROOT = Path(__file__).resolve().parents[3]


def test_the_reports_bucket_lets_a_browser_read_a_signed_link_after_the_apis_redirect() -> None:
    # Given the reports bucket as deployed
    bucket = Template(ROOT / "template.yaml").resources["ReportsBucket"]["Properties"]

    # When a browser follows the file route's redirect to it
    rules = bucket.get("CorsConfiguration", {}).get("CorsRules", [])

    # Then some rule allows a GET from any origin (the tainted `null` one included), and nothing more
    assert any("GET" in r["AllowedMethods"] and "*" in r["AllowedOrigins"] for r in rules), rules
    assert all(set(r["AllowedMethods"]) == {"GET"} for r in rules), rules
