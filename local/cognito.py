"""Cognito user pools from the template, demo users, and ID tokens on request.

The pool, its app clients and its groups are created from the template's `AWS::Cognito::*`
resources. One local-only change: the app clients also allow `ADMIN_USER_PASSWORD_AUTH`, the flow
the local stack uses to mint tokens without a browser (production clients keep SRP only), and may
read `email`, so ID tokens carry it as they do in AWS.

moto signs every pool's tokens with one RSA key that ships inside the moto package, private half
included: anyone could mint an admin token for the local API. `local.moto_patches.install_signing_key`
gives the pools a key made for this run instead (in the moto server's process, before any pool exists),
so only the pool's own sign-in and `python -m local token` can produce a token the gateway accepts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from local.aws import client
from local.template import REGION, Physical, Resolver, Template

DEMO_PASSWORD = "Storekeeper-Demo-2024"  # noqa: S105 - a published local-only password
DEMO_USERS: dict[str, str | None] = {
    "admin@example.com": "admin",
    "support@example.com": "support",
    "alice@example.com": None,
    "bob@example.com": None,
    "affiliate@example.com": "affiliate",
}

_POOL_KEYS = (
    "UsernameAttributes",
    "AliasAttributes",
    "AutoVerifiedAttributes",
    "Policies",
    "Schema",
    "MfaConfiguration",
    "AccountRecoverySetting",
    "AdminCreateUserConfig",
)


@dataclass(frozen=True)
class Pool:
    id: str
    client_ids: tuple[str, ...]
    groups: tuple[str, ...]

    @property
    def issuer(self) -> str:
        """The `iss` moto writes into tokens: the real AWS form, not the local endpoint."""
        return f"https://cognito-idp.{REGION}.amazonaws.com/{self.id}"


def create_pools(template: Template, resolver: Resolver, endpoint: str) -> dict[str, Pool]:
    """Create every pool with its clients and groups; bind their ids for `!Ref`/`!GetAtt`. Keyed by logical id."""
    idp = client("cognito-idp", endpoint)
    pools: dict[str, Pool] = {}
    pool_of_client: dict[str, str] = {}
    for logical_id, raw in template.of_type("AWS::Cognito::UserPool"):
        props = resolver.resolve(raw)
        kwargs: dict[str, Any] = {"PoolName": str(props.get("UserPoolName", logical_id))}
        kwargs.update({key: props[key] for key in _POOL_KEYS if key in props})
        pool = idp.create_user_pool(**kwargs)["UserPool"]
        resolver.bind(
            logical_id,
            Physical(
                pool["Id"],
                {
                    "Arn": pool["Arn"],
                    "ProviderName": f"cognito-idp.{REGION}.amazonaws.com/{pool['Id']}",
                    "ProviderURL": f"https://cognito-idp.{REGION}.amazonaws.com/{pool['Id']}",
                    "UserPoolId": pool["Id"],
                },
            ),
        )
        pools[logical_id] = Pool(pool["Id"], (), ())
    for logical_id, raw in template.of_type("AWS::Cognito::UserPoolClient"):
        props = resolver.resolve(raw)
        flows = list(props.get("ExplicitAuthFlows") or [])
        if "ALLOW_ADMIN_USER_PASSWORD_AUTH" not in flows:
            flows.append("ALLOW_ADMIN_USER_PASSWORD_AUTH")
        read = list(props.get("ReadAttributes") or [])
        if read and "email" not in read:
            read.append("email")
        kwargs = {
            "UserPoolId": props["UserPoolId"],
            "ClientName": str(props.get("ClientName", logical_id)),
            "GenerateSecret": bool(props.get("GenerateSecret", False)),
            "ExplicitAuthFlows": flows,
        }
        if read:
            kwargs["ReadAttributes"] = read
        app_client = idp.create_user_pool_client(**kwargs)["UserPoolClient"]
        resolver.bind(logical_id, Physical(app_client["ClientId"], {"ClientId": app_client["ClientId"]}))
        pool_of_client[app_client["ClientId"]] = props["UserPoolId"]
    groups: dict[str, list[str]] = {}
    for _, raw in template.of_type("AWS::Cognito::UserPoolGroup"):
        props = resolver.resolve(raw)
        kwargs = {"UserPoolId": props["UserPoolId"], "GroupName": props["GroupName"]}
        for key in ("Description", "Precedence"):
            if key in props:
                kwargs[key] = props[key]
        idp.create_group(**kwargs)
        groups.setdefault(props["UserPoolId"], []).append(props["GroupName"])
    return {
        logical_id: Pool(
            pool.id,
            tuple(c for c, p in pool_of_client.items() if p == pool.id),
            tuple(groups.get(pool.id, [])),
        )
        for logical_id, pool in pools.items()
    }


def ensure_user(endpoint: str, pool_id: str, email: str, group: str | None = None) -> None:
    """Create a confirmed user with the demo password if missing, and add them to `group`."""
    idp = client("cognito-idp", endpoint)
    try:
        idp.admin_get_user(UserPoolId=pool_id, Username=email)
    except idp.exceptions.UserNotFoundException:
        idp.admin_create_user(
            UserPoolId=pool_id,
            Username=email,
            UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
            MessageAction="SUPPRESS",
        )
        idp.admin_set_user_password(UserPoolId=pool_id, Username=email, Password=DEMO_PASSWORD, Permanent=True)
    if group:
        idp.admin_add_user_to_group(UserPoolId=pool_id, Username=email, GroupName=group)


def id_token(endpoint: str, pool_id: str, client_id: str, email: str) -> str:
    idp = client("cognito-idp", endpoint)
    result = idp.admin_initiate_auth(
        UserPoolId=pool_id,
        ClientId=client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": DEMO_PASSWORD},
    )
    return str(result["AuthenticationResult"]["IdToken"])


def token_for(endpoint: str, pool_id: str, client_id: str, email: str, group: str | None = None) -> str:
    ensure_user(endpoint, pool_id, email, group)
    return id_token(endpoint, pool_id, client_id, email)
