"""The web apps on AWS (web.yaml, deployed by `make deploy` through local/deploy.py): a private bucket that
only the distribution reads, HTTPS only, security headers with a content security policy that names the
API, Cognito and Stripe and nothing broader, and a deploy that writes the `config.json` the apps read."""

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local import deploy
from local.template import load_yaml

ROOT = Path(__file__).resolve().parents[2]
REGION = "eu-west-1"
API_ORIGIN = "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com"
COGNITO = f"https://cognito-idp.{REGION}.amazonaws.com"
WEB_ORIGIN = "https://d111111abcdef8.cloudfront.net"
REPORTS = "storekeeper-reports-dev-123456789012"
REPORT_LINKS = {f"https://{REPORTS}.s3.amazonaws.com", f"https://{REPORTS}.s3.{REGION}.amazonaws.com"}


@pytest.fixture(scope="module")
def web() -> dict[str, Any]:
    template: dict[str, Any] = load_yaml(ROOT / "web.yaml")
    return template


def _resources(web: dict[str, Any], rtype: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in web["Resources"].items() if r["Type"] == rtype}


def _one(web: dict[str, Any], rtype: str) -> dict[str, Any]:
    found = list(_resources(web, rtype).values())
    assert len(found) == 1, rtype
    props: dict[str, Any] = found[0]["Properties"]
    return props


def _resolve(value: Any, names: dict[str, str]) -> Any:
    """The few intrinsics the policy uses (`Fn::Join`, `Fn::Sub`), against the names given."""
    if isinstance(value, dict) and "Fn::Join" in value:
        sep, items = value["Fn::Join"]
        return sep.join(_resolve(item, names) for item in items)
    if isinstance(value, dict) and "Fn::Sub" in value:
        return re.sub(r"\$\{([^}]+)\}", lambda m: names[m.group(1)], value["Fn::Sub"])
    assert isinstance(value, str), value
    return value


def _csp(web: dict[str, Any], image_origins: str = "") -> dict[str, list[str]]:
    policy = _one(web, "AWS::CloudFront::ResponseHeadersPolicy")["ResponseHeadersPolicyConfig"]
    csp = policy["SecurityHeadersConfig"]["ContentSecurityPolicy"]
    assert csp["Override"] is True
    names = {
        "ApiOrigin": API_ORIGIN,
        "AWS::Region": REGION,
        "ImageOrigins": image_origins,
        "ReportsBucketName": REPORTS,
    }
    text = _resolve(csp["ContentSecurityPolicy"], names)
    assert len(text) <= 1783, "CloudFront's limit for a content security policy"
    directives: dict[str, list[str]] = {}
    for part in text.split(";"):
        name, *sources = part.split()
        assert name not in directives, name
        directives[name] = sources
    return directives


# ------------------------------------------------------------------------------------------ the bucket
def test_the_bucket_is_private_encrypted_and_tls_only(web: dict[str, Any]) -> None:
    for name, bucket in _resources(web, "AWS::S3::Bucket").items():
        props = bucket["Properties"]
        assert set(props["PublicAccessBlockConfiguration"].values()) == {True}, name
        assert len(props["PublicAccessBlockConfiguration"]) == 4, name
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"], name
        assert "WebsiteConfiguration" not in props, f"{name}: S3 website hosting is public by nature"
    policies = {
        p["Properties"]["Bucket"]["Ref"]: p["Properties"] for p in _resources(web, "AWS::S3::BucketPolicy").values()
    }
    assert set(policies) == set(_resources(web, "AWS::S3::Bucket")), "every bucket has a policy"
    for bucket, policy in policies.items():
        statements = policy["PolicyDocument"]["Statement"]
        tls = [s for s in statements if s["Effect"] == "Deny" and s.get("Condition", {}).get("Bool")]
        assert tls and tls[0]["Condition"]["Bool"] == {"aws:SecureTransport": "false"}, bucket


def test_only_this_distribution_reads_the_files(web: dict[str, Any]) -> None:
    policy = web["Resources"]["WebBucketPolicy"]["Properties"]["PolicyDocument"]
    allows = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert len(allows) == 1
    (allow,) = allows
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    source = allow["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
    assert source.endswith(":distribution/${Distribution}")


# ------------------------------------------------------------------------------------ the distribution
def test_cloudfront_signs_with_origin_access_control_not_an_identity(web: dict[str, Any]) -> None:
    assert not _resources(web, "AWS::CloudFront::CloudFrontOriginAccessIdentity")
    oac = _one(web, "AWS::CloudFront::OriginAccessControl")["OriginAccessControlConfig"]
    assert (oac["OriginAccessControlOriginType"], oac["SigningBehavior"], oac["SigningProtocol"]) == (
        "s3",
        "always",
        "sigv4",
    )
    config = _one(web, "AWS::CloudFront::Distribution")["DistributionConfig"]
    for origin in config["Origins"]:
        assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["WebOriginAccessControl", "Id"]}
        assert origin["S3OriginConfig"]["OriginAccessIdentity"] == ""
        assert origin["DomainName"] == {"Fn::GetAtt": ["WebBucket", "RegionalDomainName"]}


def test_viewers_get_https_only_with_the_security_headers(web: dict[str, Any]) -> None:
    config = _one(web, "AWS::CloudFront::Distribution")["DistributionConfig"]
    assert config["DefaultRootObject"] == "index.html"
    assert config["Logging"]["Bucket"] == {"Fn::GetAtt": ["LogsBucket", "DomainName"]}
    behaviours = [config["DefaultCacheBehavior"], *config.get("CacheBehaviors", [])]
    for behaviour in behaviours:
        assert behaviour["ViewerProtocolPolicy"] in {"redirect-to-https", "https-only"}
        assert behaviour["ResponseHeadersPolicyId"] == {"Ref": "SecurityHeadersPolicy"}
        assert behaviour["AllowedMethods"] == ["GET", "HEAD"]
    headers = _one(web, "AWS::CloudFront::ResponseHeadersPolicy")["ResponseHeadersPolicyConfig"][
        "SecurityHeadersConfig"
    ]
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert headers["ContentTypeOptions"]["Override"] is True
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] in {
        "strict-origin-when-cross-origin",
        "no-referrer",
        "same-origin",
    }
    assert all(h["Override"] is True for h in headers.values())


def test_the_content_security_policy_names_the_api_cognito_and_stripe_only(web: dict[str, Any]) -> None:
    csp = _csp(web)
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]
    assert set(csp["connect-src"]) == {"'self'", API_ORIGIN, COGNITO, "https://api.stripe.com", *REPORT_LINKS}
    assert {"'self'", "https://js.stripe.com"} <= set(csp["script-src"])
    assert {"https://js.stripe.com", "https://hooks.stripe.com"} <= set(csp["frame-src"])
    for directive, sources in csp.items():
        for source in sources:
            assert source not in {"*", "https:", "http:", "data:", "blob:"} or (directive, source) == (
                "img-src",
                "data:",
            )
            assert source not in {"'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'"}, directive
            if source.startswith("http"):
                host = source.removeprefix("https://")
                assert source.startswith("https://"), source
                assert source in {API_ORIGIN, COGNITO, *REPORT_LINKS} or re.fullmatch(
                    r"(\*\.)?[a-z.]*\.stripe\.com", host
                ), source


def test_the_pages_hold_nothing_inline_the_policy_would_block() -> None:
    for page in (ROOT / "web" / "index.html", ROOT / "web" / "admin" / "index.html"):
        html = page.read_text()
        scripts = re.findall(r"<script\b([^>]*)>", html, flags=re.IGNORECASE)
        assert all("src=" in attributes for attributes in scripts), f"{page}: an inline script"
        assert not re.search(r"<style\b|\sstyle=|\son[a-z]+=", html, flags=re.IGNORECASE), (
            f"{page}: inline style or handler"
        )


def test_image_origins_join_the_images_and_nothing_else(web: dict[str, Any]) -> None:
    csp = _csp(web, "https://images.example.com")
    assert csp["img-src"] == ["'self'", "data:", "https://images.example.com"]
    pattern = re.compile(web["Parameters"]["ImageOrigins"]["AllowedPattern"])
    assert pattern.fullmatch("") and pattern.fullmatch("https://a.example.com https://b.example.com")
    for broad in ("*", "https://*", "https:", "http://images.example.com", "https://a.example.com; script-src *"):
        assert not pattern.fullmatch(broad), broad


def test_folders_serve_their_index_and_the_console_without_slash_is_redirected(web: dict[str, Any]) -> None:
    node = shutil.which("node")
    assert node, "Node.js is needed (make install)"
    code = _one(web, "AWS::CloudFront::Function")["FunctionCode"]
    uris = ["/", "/admin/", "/admin", "/assets/index-Ab12.js", "/config.json", "/admin/index.html"]
    script = code + f"\nconsole.log(JSON.stringify({json.dumps(uris)}.map(u => handler({{request: {{uri: u}}}}))));"
    done = subprocess.run([node, "-e", script], capture_output=True, text=True, timeout=30, check=True)
    answers = dict(zip(uris, json.loads(done.stdout), strict=True))
    assert answers["/"]["uri"] == "/index.html"
    assert answers["/admin/"]["uri"] == "/admin/index.html"
    assert answers["/admin"]["statusCode"] == 301
    assert answers["/admin"]["headers"]["location"]["value"] == "/admin/"
    for unchanged in ("/assets/index-Ab12.js", "/config.json", "/admin/index.html"):
        assert answers[unchanged]["uri"] == unchanged


def test_the_api_origin_parameter_takes_what_template_yaml_outputs(web: dict[str, Any]) -> None:
    api_url_output = load_yaml(ROOT / "template.yaml")["Outputs"]["ApiUrl"]["Value"]["Fn::Sub"]
    api_url = api_url_output.replace("${StoreApi}", "a1b2c3d4e5").replace("${AWS::Region}", REGION)
    api_url = api_url.replace("${Stage}", "dev")
    assert deploy.api_origin(api_url) == API_ORIGIN
    assert deploy.stage_of(api_url) == "dev"
    assert re.fullmatch(web["Parameters"]["ApiOrigin"]["AllowedPattern"], deploy.api_origin(api_url))


def test_the_deploy_gives_web_yaml_every_parameter_it_needs(web: dict[str, Any]) -> None:
    outputs = load_yaml(ROOT / "template.yaml")["Outputs"]
    api = {"ApiUrl": f"{API_ORIGIN}/dev", "ReportsBucketName": REPORTS}
    needed = {*api, "UserPoolId", "UserPoolClientId"}  # and config.json
    assert needed <= set(outputs), "the API stack outputs what the web stack and config.json need"
    given = deploy.web_parameters(api, None)
    assert set(given) == set(web["Parameters"]) - {"LogRetentionDays"}
    for name, spec in web["Parameters"].items():
        value = given.get(name)
        if value is None:
            assert "Default" in spec, f"{name} needs a value on the first deploy"
        else:
            assert re.fullmatch(spec.get("AllowedPattern", ".*"), value), name
            assert value in spec.get("AllowedValues", [value]), name


def test_validate_lints_and_scans_web_yaml() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"cfn-lint [^\n]*\bweb\.yaml\b", makefile)
    assert "web.yaml" in load_yaml(ROOT / ".checkov.yaml")["file"]


# ---------------------------------------------------------------------------------------- the deploy
def test_the_web_origin_goes_first_in_allowed_origins_once() -> None:
    local = "http://localhost:5173,http://127.0.0.1:5173"
    merged = deploy.merge_origins(local, WEB_ORIGIN)
    assert merged == f"{WEB_ORIGIN},{local}"
    assert deploy.merge_origins(merged, WEB_ORIGIN) == merged
    assert (
        deploy.merge_origins(f"http://localhost:5173,{WEB_ORIGIN}", WEB_ORIGIN) == f"{WEB_ORIGIN},http://localhost:5173"
    )
    allowed = load_yaml(ROOT / "template.yaml")["Parameters"]["AllowedOrigins"]["AllowedPattern"]
    assert re.fullmatch(allowed, merged), "template.yaml accepts the merged origins"


def test_samconfig_overrides_survive_a_round_trip(tmp_path: Path) -> None:
    samconfig = tmp_path / "samconfig.toml"
    samconfig.write_text(
        "version = 0.1\n[default.deploy.parameters]\n"
        'stack_name = "shop"\nregion = "eu-west-1"\n'
        'parameter_overrides = "Stage=\\"dev\\" ReportRecipients=\\"a@example.com,b@example.com\\" AlarmEmail=\\"\\""\n'
    )
    settings = deploy.read_samconfig(samconfig)
    assert settings is not None
    assert (settings.stack_name, settings.region) == ("shop", "eu-west-1")
    assert settings.overrides == {"Stage": "dev", "ReportRecipients": "a@example.com,b@example.com", "AlarmEmail": ""}
    again = deploy.parse_overrides(" ".join(deploy.format_overrides(settings.overrides)))
    assert again == settings.overrides
    assert deploy.read_samconfig(tmp_path / "missing.toml") is None


def test_config_json_has_exactly_what_the_apps_require() -> None:
    config_ts = (ROOT / "web" / "src" / "shared" / "config.ts").read_text()
    required = re.search(r"const REQUIRED[^=]*=\s*\[([^\]]*)\]", config_ts)
    assert required, "web/src/shared/config.ts lists its REQUIRED keys"
    keys = set(re.findall(r'"(\w+)"', required.group(1)))
    outputs = {"ApiUrl": f"{API_ORIGIN}/dev/", "UserPoolId": "eu-west-1_abc", "UserPoolClientId": "client"}
    config = deploy.web_config(outputs, REGION, "pk_live_123")
    assert set(config) == keys
    assert config["apiUrl"] == f"{API_ORIGIN}/dev"
    assert config["cognitoEndpoint"] == f"{COGNITO}/"
    assert config["stripeJsUrl"] == "https://js.stripe.com/v3/"


def test_the_policy_admits_every_address_config_json_names(web: dict[str, Any]) -> None:
    outputs = {"ApiUrl": f"{API_ORIGIN}/dev", "UserPoolId": "eu-west-1_abc", "UserPoolClientId": "client"}
    config = deploy.web_config(outputs, REGION, "pk_live_123")
    csp = _csp(web)
    assert deploy.api_origin(config["apiUrl"]) in csp["connect-src"]
    assert deploy.api_origin(config["cognitoEndpoint"]) in csp["connect-src"]
    assert deploy.api_origin(config["stripeJsUrl"]) in csp["script-src"]


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    root = tmp_path / "dist"
    for name, body in {
        "index.html": "<!doctype html><title>shop</title>",
        "admin/index.html": "<!doctype html><title>console</title>",
        "assets/store-Ab12Cd.js": "export {}",
        "assets/style-Ef34.css": "body{}",
        "favicon.svg": "<svg/>",
        "config.json": '{"apiUrl": "http://127.0.0.1:3000"}',
    }.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(body)
    return root


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket="web", CreateBucketConfiguration={"LocationConstraint": REGION})
        yield client


def test_the_upload_sets_cache_headers_and_writes_its_own_config(dist: Path, s3: Any) -> None:
    config = {"apiUrl": f"{API_ORIGIN}/dev", "region": REGION}
    put: list[str] = []
    original = s3.put_object

    def recording(**kwargs: Any) -> Any:
        put.append(kwargs["Key"])
        return original(**kwargs)

    s3.put_object = recording
    assert deploy.upload(s3, "web", dist, config) == 6

    def head(key: str) -> tuple[str, str]:
        answer = s3.head_object(Bucket="web", Key=key)
        return answer["CacheControl"], answer["ContentType"]

    assert head("index.html") == ("no-cache", "text/html; charset=utf-8")
    assert head("admin/index.html") == ("no-cache", "text/html; charset=utf-8")
    assert head("config.json") == ("no-cache", "application/json; charset=utf-8")
    assert head("assets/store-Ab12Cd.js") == ("public, max-age=31536000, immutable", "text/javascript; charset=utf-8")
    assert head("assets/style-Ef34.css")[0] == "public, max-age=31536000, immutable"
    assert head("favicon.svg") == ("public, max-age=300", "image/svg+xml")
    uploaded = json.loads(s3.get_object(Bucket="web", Key="config.json")["Body"].read())
    assert uploaded == config, "the build's local config.json is never uploaded"
    assert put[-1] == "config.json"
    assert max(put.index(k) for k in put if k.startswith("assets/")) < min(
        put.index(k) for k in put if k.endswith(".html")
    )


def test_the_upload_refuses_a_missing_build(tmp_path: Path, s3: Any) -> None:
    with pytest.raises(deploy.DeployError, match="make web"):
        deploy.upload(s3, "web", tmp_path / "nothing", {})


def test_the_publishable_key_comes_from_ssm() -> None:
    with mock_aws():
        ssm = boto3.client("ssm", region_name=REGION)
        with pytest.raises(deploy.DeployError, match="put-parameter"):
            deploy.publishable_key(ssm, "dev")
        ssm.put_parameter(Name="/storekeeper/dev/stripe/publishable-key", Type="String", Value="sk_live_oops")
        with pytest.raises(deploy.DeployError, match="publishable"):
            deploy.publishable_key(ssm, "dev")
        ssm.put_parameter(
            Name="/storekeeper/dev/stripe/publishable-key", Type="String", Value="pk_live_1", Overwrite=True
        )
        assert deploy.publishable_key(ssm, "dev") == "pk_live_1"


def test_the_invalidation_drops_every_path_once() -> None:
    with mock_aws():
        cloudfront = boto3.client("cloudfront", region_name="us-east-1")
        distribution = cloudfront.create_distribution(
            DistributionConfig={
                "CallerReference": "test",
                "Comment": "",
                "Enabled": True,
                "Origins": {
                    "Quantity": 1,
                    "Items": [
                        {
                            "Id": "web",
                            "DomainName": "web.s3.amazonaws.com",
                            "S3OriginConfig": {"OriginAccessIdentity": ""},
                        }
                    ],
                },
                "DefaultCacheBehavior": {"TargetOriginId": "web", "ViewerProtocolPolicy": "redirect-to-https"},
            }
        )["Distribution"]["Id"]
        invalidation = deploy.invalidate(cloudfront, distribution)
        batch = cloudfront.get_invalidation(DistributionId=distribution, Id=invalidation)["Invalidation"][
            "InvalidationBatch"
        ]
        assert batch["Paths"]["Items"] == ["/*"]


class FakeAws:
    """The deploy's AWS and SAM steps as a plain-Python model of the two stacks."""

    def __init__(self) -> None:
        self.allowed = "http://localhost:5173,http://127.0.0.1:5173"  # the API stack's AllowedOrigins
        self.web_exists = False
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.uploaded: dict[str, str] = {}

    def sam_deploy(self, overrides: dict[str, str] | None, *, guided: bool = False) -> None:
        assert not guided
        self.calls.append(("sam", dict(overrides or {})))
        if overrides:
            self.allowed = overrides["AllowedOrigins"]

    def describe(self, cfn: Any, stack_name: str) -> dict[str, Any] | None:
        if stack_name == "shop":
            outputs = {
                "ApiUrl": f"{API_ORIGIN}/dev",
                "UserPoolId": "eu-west-1_pool",
                "UserPoolClientId": "client",
                "ReportsBucketName": REPORTS,
            }
            return {
                "StackStatus": "UPDATE_COMPLETE",
                "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()],
                "Parameters": [{"ParameterKey": "AllowedOrigins", "ParameterValue": self.allowed}],
            }
        if stack_name == "shop-web" and self.web_exists:
            return {
                "StackStatus": "UPDATE_COMPLETE",
                "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in self.web_outputs().items()],
            }
        return None

    def web_outputs(self) -> dict[str, str]:
        return {
            "WebOrigin": WEB_ORIGIN,
            "StorefrontUrl": f"{WEB_ORIGIN}/",
            "ConsoleUrl": f"{WEB_ORIGIN}/admin/",
            "WebBucketName": "web-bucket",
            "DistributionId": "E123",
        }

    def deploy_stack(self, cfn: Any, stack_name: str, template: Path, parameters: dict[str, Any]) -> dict[str, str]:
        assert (stack_name, template) == ("shop-web", ROOT / "web.yaml")
        self.calls.append(("web", parameters))
        self.web_exists = True
        return self.web_outputs()

    def upload(self, s3: Any, bucket: str, dist: Path, config: dict[str, str]) -> int:
        self.uploaded = config
        return 1

    def publishable_key(self, ssm: Any, stage: str) -> str:
        return f"pk_test_{stage}"

    def invalidate(self, cloudfront: Any, distribution_id: str) -> str:
        assert distribution_id == "E123"
        return "I1"


@pytest.fixture
def fake_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeAws]:
    fake = FakeAws()
    samconfig = tmp_path / "samconfig.toml"
    samconfig.write_text(
        '[default.deploy.parameters]\nstack_name = "shop"\nregion = "eu-west-1"\n'
        'parameter_overrides = "Stage=\\"dev\\" AllowedOrigins=\\"http://localhost:5173\\""\n'
    )
    monkeypatch.setattr(deploy, "SAMCONFIG", samconfig)
    for name in ("sam_deploy", "describe", "deploy_stack", "upload", "publishable_key", "invalidate"):
        monkeypatch.setattr(deploy, name, getattr(fake, name))
    with mock_aws():
        yield fake


def test_the_first_deploy_adds_the_web_origin_with_a_second_api_deploy(fake_aws: FakeAws) -> None:
    assert deploy.main([]) == 0
    web_parameters = {"Stage": "dev", "ApiOrigin": API_ORIGIN, "ReportsBucketName": REPORTS, "ImageOrigins": None}
    assert fake_aws.calls == [
        ("sam", {}),
        ("web", web_parameters),
        ("sam", {"Stage": "dev", "AllowedOrigins": f"{WEB_ORIGIN},http://localhost:5173"}),
    ]
    assert fake_aws.uploaded["apiUrl"] == f"{API_ORIGIN}/dev"
    assert fake_aws.uploaded["stripePublishableKey"] == "pk_test_dev"


def test_later_deploys_keep_the_web_origin_from_the_start(fake_aws: FakeAws) -> None:
    assert deploy.main([]) == 0
    fake_aws.calls.clear()
    assert deploy.main(["--image-origins", "https://images.example.com"]) == 0
    merged = f"{WEB_ORIGIN},http://localhost:5173"
    assert [kind for kind, _ in fake_aws.calls] == ["sam", "web"], "no second API deploy"
    assert fake_aws.calls[0][1] == {"Stage": "dev", "AllowedOrigins": merged}
    assert fake_aws.calls[1][1]["ImageOrigins"] == "https://images.example.com"
