"""`make deploy`: the API (template.yaml, with SAM), the web apps' hosting (web.yaml), then the built web
apps with the `config.json` that points them at this API.

Two stacks, because one would be a cycle: the apps' content security policy names the API's domain (a
REST API id, known once the API exists), the API's `AllowedOrigins` names the distribution's domain (known
once the distribution exists), and the API's definition names every function, whose environment carries
the allowed origins. So the API stack deploys first, the web stack second with the API's origin as a
parameter, and the API stack once more, only when its `AllowedOrigins` lacks the distribution's origin (the
first deploy). Later deploys pass the distribution's origin up front, so a browser on the shop is never
refused during a deploy. It goes first in `AllowedOrigins`: the gateway's own answers (401, 429, ...) carry
the first origin (docs/decisions.md, "The web apps on AWS").

It runs on the deployer's machine with their AWS credentials (boto3's usual chain); every AWS call has a
timeout and retries, every step prints one line. `samconfig.toml` (written by `sam deploy --guided` on the
first run) names the stack and region.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import shlex
import subprocess
import sys
import tomllib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError, WaiterError

from local.template import Template

ROOT = Path(__file__).resolve().parents[1]
SAM = ROOT / ".tools" / "sam" / "bin" / "sam"
SAMCONFIG = ROOT / "samconfig.toml"
WEB_TEMPLATE = ROOT / "web.yaml"
DIST = ROOT / "web" / "dist"
STRIPE_JS_URL = "https://js.stripe.com/v3/"
CONFIG_KEY = "config.json"

# Each call gives up after a minute and is retried; a deploy step that hangs fails instead of waiting forever.
AWS_CONFIG = BotoConfig(connect_timeout=5, read_timeout=60, retries={"max_attempts": 5, "mode": "standard"})
STACK_WAIT = {"Delay": 15, "MaxAttempts": 240}  # a CloudFront distribution takes minutes; give up after an hour
SAM_TIMEOUT_SECONDS = 3600

# Vite writes content-hashed names under assets/: a name never gets other content, so browsers keep them.
# The pages and config.json name the current assets and must be fetched again on every visit.
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
SHORT = "public, max-age=300"

_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".map": "application/json; charset=utf-8",
    ".svg": "image/svg+xml",
    ".webmanifest": "application/manifest+json",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
}


class DeployError(Exception):
    """A step cannot go on; the message says what to do."""


@dataclass(frozen=True)
class SamSettings:
    """What `samconfig.toml` says about the API stack (`default` environment, as `sam deploy` reads it)."""

    stack_name: str
    region: str | None
    overrides: dict[str, str]


def parse_overrides(value: str | Sequence[str] | None) -> dict[str, str]:
    """`Key=Value Key2="a value"` (a string, as `sam deploy --guided` writes it, or a list) → a dict."""
    if value is None:
        return {}
    tokens = shlex.split(value) if isinstance(value, str) else [t for item in value for t in shlex.split(item)]
    pairs: dict[str, str] = {}
    for token in tokens:
        key, sep, val = token.partition("=")
        if not sep or not key:
            raise DeployError(f"samconfig.toml: parameter override {token!r} is not Key=Value")
        pairs[key] = val
    return pairs


def format_overrides(overrides: Mapping[str, str]) -> list[str]:
    """The arguments of `sam deploy --parameter-overrides`, each value quoted as SAM parses it."""
    return [f'{key}="{_quoted(value)}"' for key, value in overrides.items()]


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def read_samconfig(path: Path) -> SamSettings | None:
    if not path.exists():
        return None
    default = tomllib.loads(path.read_text()).get("default", {})
    deploy = default.get("deploy", {}).get("parameters", {})
    region = deploy.get("region") or default.get("global", {}).get("parameters", {}).get("region")
    stack_name = deploy.get("stack_name")
    if not stack_name:
        raise DeployError(f"{path} names no stack_name under [default.deploy.parameters]: run `sam deploy --guided`")
    return SamSettings(str(stack_name), region, parse_overrides(deploy.get("parameter_overrides")))


def merge_origins(current: str, web_origin: str) -> str:
    """`AllowedOrigins` with the web apps' origin first (the gateway's own answers carry the first one),
    then the others as they were, each once."""
    rest = [o for o in (part.strip() for part in current.split(",")) if o and o != web_origin]
    return ",".join([web_origin, *rest])


def api_origin(api_url: str) -> str:
    """`https://abc.execute-api.eu-west-1.amazonaws.com/dev` → `https://abc.execute-api.eu-west-1.amazonaws.com`."""
    parts = urlsplit(api_url)
    return f"{parts.scheme}://{parts.netloc}"


def stage_of(api_url: str) -> str:
    """The stage is the last segment of the API's URL (template.yaml's `ApiUrl` output)."""
    return urlsplit(api_url).path.strip("/").split("/")[-1]


def web_parameters(api: Mapping[str, str], image_origins: str | None) -> dict[str, str | None]:
    """web.yaml's parameters from the API stack's outputs (None: keep the deployed value)."""
    return {
        "Stage": stage_of(api["ApiUrl"]),
        "ApiOrigin": api_origin(api["ApiUrl"]),
        "ReportsBucketName": api["ReportsBucketName"],
        "ImageOrigins": image_origins,
    }


def web_config(outputs: Mapping[str, str], region: str, publishable_key: str) -> dict[str, str]:
    """`config.json` for both apps (web/src/shared/config.ts's `Config`), from the API stack's outputs."""
    return {
        "apiUrl": outputs["ApiUrl"].rstrip("/"),
        "region": region,
        "userPoolId": outputs["UserPoolId"],
        "userPoolClientId": outputs["UserPoolClientId"],
        "cognitoEndpoint": f"https://cognito-idp.{region}.amazonaws.com/",
        "stripePublishableKey": publishable_key,
        "stripeJsUrl": STRIPE_JS_URL,
    }


def cache_control(key: str) -> str:
    if key.startswith("assets/"):
        return IMMUTABLE
    if key.endswith(".html") or key == CONFIG_KEY:
        return REVALIDATE
    return SHORT


def content_type(key: str) -> str:
    suffix = Path(key).suffix.lower()
    return _TYPES.get(suffix) or mimetypes.guess_type(key)[0] or "application/octet-stream"


def upload_order(keys: Iterable[str]) -> list[str]:
    """Assets first, pages after: a visitor never gets a page that names an asset not yet uploaded."""
    return sorted(keys, key=lambda k: (k.endswith(".html"), k))


def upload(s3: Any, bucket: str, dist: Path, config: Mapping[str, str]) -> int:
    """Puts the build in the bucket with its cache headers, then `config.json` (last: the pages read it).

    Files of earlier builds stay: a page loaded before this deploy still fetches its own hashed assets
    (the bucket's versioning and lifecycle keep that cheap). A `config.json` inside the build (the local
    stack's) is never uploaded; this deploy writes its own.
    """
    if not (dist / "index.html").exists() or not (dist / "admin" / "index.html").exists():
        raise DeployError(f"{dist} holds no build of both apps: run `make web`")
    files = {p.relative_to(dist).as_posix(): p for p in dist.rglob("*") if p.is_file()}
    files.pop(CONFIG_KEY, None)
    for key in upload_order(files):
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=files[key].read_bytes(),
            ContentType=content_type(key),
            CacheControl=cache_control(key),
        )
    s3.put_object(
        Bucket=bucket,
        Key=CONFIG_KEY,
        Body=json.dumps(config, indent=2).encode(),
        ContentType=content_type(CONFIG_KEY),
        CacheControl=cache_control(CONFIG_KEY),
    )
    return len(files) + 1


def invalidate(cloudfront: Any, distribution_id: str) -> str:
    """Drops every cached path once (one wildcard path: one invalidation path of the free 1,000 a month)."""
    answer = cloudfront.create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": str(uuid.uuid4())},
    )
    return str(answer["Invalidation"]["Id"])


def publishable_key(ssm: Any, stage: str) -> str:
    """Stripe's publishable key, kept beside the secret ones in SSM (a plain String: it is public)."""
    name = f"/storekeeper/{stage}/stripe/publishable-key"
    try:
        value = str(ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"])
    except ClientError as e:
        if e.response["Error"]["Code"] != "ParameterNotFound":
            raise
        raise DeployError(
            f"no Stripe publishable key: aws ssm put-parameter --type String --name {name} --value pk_live_..."
        ) from e
    if not value.startswith("pk_"):
        raise DeployError(f"{name} does not hold a publishable key (pk_...)")
    return value


# ---------------------------------------------------------------------------------------- CloudFormation
def describe(cfn: Any, stack_name: str) -> dict[str, Any] | None:
    try:
        stacks = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as e:
        if "does not exist" in e.response["Error"]["Message"]:
            return None
        raise
    return dict(stacks[0]) if stacks else None


def outputs_of(stack: Mapping[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def parameter_of(stack: Mapping[str, Any], key: str) -> str | None:
    for p in stack.get("Parameters", []):
        if p["ParameterKey"] == key:
            return str(p["ParameterValue"])
    return None


def deploy_stack(cfn: Any, stack_name: str, template: Path, parameters: Mapping[str, str | None]) -> dict[str, str]:
    """Creates or updates a plain CloudFormation stack through a change set and waits for it.

    A parameter given as None keeps its deployed value (its default when the stack is new).
    """
    stack = describe(cfn, stack_name)
    if stack is not None and stack["StackStatus"] == "ROLLBACK_COMPLETE":
        raise DeployError(f"stack {stack_name} failed to create; delete it and deploy again")
    creating = stack is None
    values = [
        {"ParameterKey": k, "ParameterValue": v} if v is not None else {"ParameterKey": k, "UsePreviousValue": True}
        for k, v in parameters.items()
        if v is not None or not creating
    ]
    name = f"deploy-{uuid.uuid4().hex[:12]}"
    cfn.create_change_set(
        StackName=stack_name,
        ChangeSetName=name,
        ChangeSetType="CREATE" if creating else "UPDATE",
        TemplateBody=template.read_text(),
        Parameters=values,
        Tags=[{"Key": "storekeeper:part", "Value": "web"}],
    )
    try:
        cfn.get_waiter("change_set_create_complete").wait(
            StackName=stack_name, ChangeSetName=name, WaiterConfig={"Delay": 5, "MaxAttempts": 120}
        )
    except WaiterError:
        change_set = cfn.describe_change_set(StackName=stack_name, ChangeSetName=name)
        reason = str(change_set.get("StatusReason", ""))
        if "didn't contain changes" in reason or "No updates are to be performed" in reason:
            cfn.delete_change_set(StackName=stack_name, ChangeSetName=name)
            return outputs_of(describe(cfn, stack_name) or {})
        raise DeployError(f"change set of {stack_name} failed: {reason}") from None
    cfn.execute_change_set(StackName=stack_name, ChangeSetName=name)
    waiter = "stack_create_complete" if creating else "stack_update_complete"
    cfn.get_waiter(waiter).wait(StackName=stack_name, WaiterConfig=STACK_WAIT)
    return outputs_of(describe(cfn, stack_name) or {})


def sam_deploy(overrides: Mapping[str, str] | None, *, guided: bool = False) -> None:
    """`sam deploy` of template.yaml, with samconfig.toml's settings (guided: asks for them, first run)."""
    command = [str(SAM), "deploy"]
    if guided:
        command.append("--guided")
    else:
        command += ["--no-confirm-changeset", "--no-fail-on-empty-changeset"]
    if overrides:
        command += ["--parameter-overrides", *format_overrides(overrides)]
    subprocess.run(command, cwd=ROOT, check=True, timeout=SAM_TIMEOUT_SECONDS)


def _say(message: str) -> None:
    print(f"deploy: {message}", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.deploy", description=__doc__.splitlines()[0])
    parser.add_argument("--web-only", action="store_true", help="skip the API stack: the web stack and files only")
    parser.add_argument(
        "--image-origins",
        default=None,
        help="space-separated origins of product images for the CSP (default: as deployed, else none)",
    )
    args = parser.parse_args(argv)
    try:
        return _deploy(web_only=args.web_only, image_origins=args.image_origins)
    except DeployError as e:
        print(f"deploy: {e}", file=sys.stderr)
    except subprocess.CalledProcessError as e:
        print(f"deploy: sam deploy failed (exit {e.returncode}); its output is above", file=sys.stderr)
    except subprocess.TimeoutExpired:
        print(f"deploy: sam deploy took over {SAM_TIMEOUT_SECONDS} s; see the stack's events", file=sys.stderr)
    except (BotoCoreError, ClientError) as e:
        print(f"deploy: AWS refused or did not answer: {e}", file=sys.stderr)
    return 1


def _deploy(*, web_only: bool, image_origins: str | None) -> int:
    settings = read_samconfig(SAMCONFIG)
    guided = settings is None
    if settings is None:
        _say("no samconfig.toml yet: sam deploy --guided (it asks for the stack name, region and parameters)")
        sam_deploy(None, guided=True)
        settings = read_samconfig(SAMCONFIG)
        if settings is None:
            raise DeployError("sam deploy --guided wrote no samconfig.toml (answer yes to saving the arguments)")
    session = boto3.session.Session(region_name=settings.region)
    region = session.region_name
    if not region:
        raise DeployError("no region: set it in samconfig.toml or AWS_REGION")
    cfn = session.client("cloudformation", config=AWS_CONFIG)
    web_stack_name = f"{settings.stack_name}-web"

    def with_origin(origin: str) -> dict[str, str]:
        deployed = describe(cfn, settings.stack_name)
        current = settings.overrides.get("AllowedOrigins")
        if not current and deployed is not None:
            current = parameter_of(deployed, "AllowedOrigins")
        if not current:
            current = Template(ROOT / "template.yaml").parameter_defaults()["AllowedOrigins"]
        return {**settings.overrides, "AllowedOrigins": merge_origins(current, origin)}

    web_stack = describe(cfn, web_stack_name)
    known_origin = outputs_of(web_stack).get("WebOrigin") if web_stack else None
    if not web_only and not guided:
        _say(f"API stack {settings.stack_name} (sam deploy)")
        sam_deploy(with_origin(known_origin) if known_origin else None)

    api_stack = describe(cfn, settings.stack_name)
    if api_stack is None:
        raise DeployError(f"stack {settings.stack_name} does not exist: deploy it first (without --web-only)")
    api = outputs_of(api_stack)
    # Before the web stack's minutes: a missing key fails the deploy now, not after them.
    config = web_config(api, region, publishable_key(session.client("ssm", config=AWS_CONFIG), stage_of(api["ApiUrl"])))
    _say(f"web stack {web_stack_name} (S3 + CloudFront; the first one takes several minutes)")
    web = deploy_stack(cfn, web_stack_name, WEB_TEMPLATE, web_parameters(api, image_origins))
    origin = web["WebOrigin"]
    allowed = (parameter_of(api_stack, "AllowedOrigins") or "").split(",")
    if origin not in allowed:
        _say(f"API stack again: {origin} joins AllowedOrigins")
        sam_deploy(with_origin(origin))

    count = upload(session.client("s3", config=AWS_CONFIG), web["WebBucketName"], DIST, config)
    _say(f"uploaded {count} files to s3://{web['WebBucketName']}")
    invalidation = invalidate(session.client("cloudfront", config=AWS_CONFIG), web["DistributionId"])
    _say(f"CloudFront invalidation {invalidation} started (a minute or two)")
    _say(f"storefront {web['StorefrontUrl']}  console {web['ConsoleUrl']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
