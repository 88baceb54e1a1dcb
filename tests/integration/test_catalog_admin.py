"""Admin catalog edits through `catalog.admin_api.handler`, against moto."""

import re
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from common.dynamo import dynamodb_client
from common.events import events_client
from common.ids import ID_PATTERN
from tests.proxy import Answer

from .conftest import REGION, CatalogWorld, Handler, catalog_view, product_body

# A request that fails adds no metric; Powertools warns about the empty flush, which is expected here.
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

EventFactory = Callable[..., dict[str, Any]]
Create = Callable[..., dict[str, Any]]
ADMIN = ["admin"]


def product_items(world: CatalogWorld) -> list[dict[str, Any]]:
    return [item for item in world.items() if item["PK"]["S"].startswith("PRODUCT#")]


# ---------------------------------------------------------------- create


def test_create_answers_201_with_the_product_and_its_location(
    world: CatalogWorld, call_admin: Handler, call_public: Handler, api_event: EventFactory
) -> None:
    # Given an admin and a valid product
    body = product_body(name="Crème Tee")

    # When it is created
    answer = call_admin(api_event("POST", "/products", body=body, groups=ADMIN))

    # Then it is a 201 with a new id, Location pointing at it, version 1, effective variant prices
    assert answer.status == 201
    product_id = answer.body["productId"]
    assert re.fullmatch(ID_PATTERN, product_id) and product_id.startswith("p_")
    assert answer.headers["Location"] == f"/dev/products/{product_id}"  # behind the stage the request came through
    assert (answer.body["status"], answer.body["version"], answer.body["categorySlug"]) == ("ACTIVE", 1, "tees")
    assert [v["price"]["amount"] for v in answer.body["variants"]] == [2000, 2500]

    # And the public detail at Location shows the same product
    detail = call_public(api_event("GET", answer.headers["Location"].removeprefix("/dev")))
    assert detail.status == 200
    assert catalog_view(detail.body) == catalog_view(answer.body)


def test_create_publishes_product_changed_with_a_versioned_event_id(
    world: CatalogWorld, create_product: Create
) -> None:
    # Given an empty catalog
    # When a product is created
    product = create_product()

    # Then exactly one ProductChanged went to the bus, with the stable id of version 1
    events = world.published()
    assert [(e["source"], e["detail-type"]) for e in events] == [("storekeeper.catalog", "ProductChanged")]
    detail = events[0]["detail"]
    assert detail["eventId"] == f"ProductChanged#{product['productId']}#1"
    assert detail["data"] == {
        "productId": product["productId"],
        "name": product["name"],
        "status": "ACTIVE",
        "version": 1,
        "variants": [{"sku": v["sku"], "price": v["price"]} for v in product["variants"]],
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (product_body(price={"amount": -1, "currency": "EUR"}), "body.price.amount"),
        (product_body(variants=[]), "body.variants"),
        (product_body(colour="red"), "body.colour"),
        (product_body(variants=[{"sku": "DUP-1"}, {"sku": "DUP-1"}]), "body.variants"),
        ({"name": "No price"}, "body.description"),
    ],
)
def test_an_invalid_body_is_a_422_and_nothing_is_written(
    world: CatalogWorld, call_admin: Handler, api_event: EventFactory, create_product: Create, body: Any, field: str
) -> None:
    # Given a catalog with one product
    create_product()
    world.published()
    before = world.items()

    # When an admin sends an invalid product
    answer = call_admin(api_event("POST", "/products", body=body, groups=ADMIN))

    # Then it is a 422 naming the field, and neither the table nor the bus changed
    assert answer.status == 422
    assert answer.error_code == "validation_failed"
    assert field in [d["field"] for d in answer.body["error"]["details"]]
    assert world.items() == before
    assert world.published() == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"price": {"amount": 2000, "currency": "USD"}}, "body.price.currency"),
        (
            {"variants": [{"sku": "FX-1"}, {"sku": "FX-2", "price": {"amount": 1, "currency": "GBP"}}]},
            "body.variants.1.price.currency",
        ),
    ],
)
def test_a_price_in_another_currency_is_a_422(
    world: CatalogWorld, call_admin: Handler, api_event: EventFactory, overrides: dict[str, Any], field: str
) -> None:
    # Given the shop sells in EUR (template parameter ShopCurrency)
    # When an admin sends a price in another currency
    answer = call_admin(api_event("POST", "/products", body=product_body(**overrides), groups=ADMIN))

    # Then it is a 422 naming the price's currency, and nothing is written
    assert answer.status == 422
    assert [d["field"] for d in answer.body["error"]["details"]] == [field]
    assert world.items() == []


def test_malformed_json_is_a_400(world: CatalogWorld, call_admin: Handler, api_event: EventFactory) -> None:
    answer = call_admin(api_event("POST", "/products", body='{"name": ', groups=ADMIN))
    assert (answer.status, answer.error_code) == (400, "malformed_json")


def test_a_form_encoded_json_body_is_still_accepted(
    world: CatalogWorld, call_admin: Handler, api_event: EventFactory
) -> None:
    # Given `curl -d '{...}'`, which labels the JSON as a form
    event = api_event(
        "POST",
        "/products",
        body=product_body(),
        groups=ADMIN,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    # When it is sent
    answer = call_admin(event)

    # Then the product is created
    assert answer.status == 201


# ---------------------------------------------------------------- authorization


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/products"), ("PUT", "/products/{id}"), ("DELETE", "/products/{id}")]
)
@pytest.mark.parametrize(
    ("groups", "sub", "status"), [(None, None, 401), (None, "cust-1", 403), (["support"], None, 403)]
)
def test_only_admins_edit_and_role_is_checked_before_the_body(
    world: CatalogWorld,
    call_admin: Handler,
    api_event: EventFactory,
    create_product: Create,
    method: str,
    path: str,
    groups: list[str] | None,
    sub: str | None,
    status: int,
) -> None:
    # Given a product, and a caller who is anonymous, a customer, or support
    product = create_product()
    world.published()
    before = world.items()
    body = {"name": 42} if method != "DELETE" else None

    # When they try to edit it with an invalid body
    answer = call_admin(api_event(method, path.format(id=product["productId"]), body=body, groups=groups, sub=sub))

    # Then they get 401/403 (never a 422 describing the body) and nothing changed
    assert answer.status == status
    assert answer.body["error"]["details"] is None
    assert world.items() == before
    assert world.published() == []


# ---------------------------------------------------------------- SKU uniqueness


def test_a_sku_owned_by_another_product_is_409_and_nothing_is_written(
    world: CatalogWorld, call_admin: Handler, api_event: EventFactory, create_product: Create
) -> None:
    # Given a product owning TEE-RED-M
    create_product(variants=[{"sku": "TEE-RED-M"}])
    world.published()
    before = world.items()

    # When another product is created with a new SKU and TEE-RED-M
    body = product_body(name="Other", category="Brand New", variants=[{"sku": "TEE-NEW-1"}, {"sku": "TEE-RED-M"}])
    answer = call_admin(api_event("POST", "/products", body=body, groups=ADMIN))

    # Then it is a 409 sku_taken naming the SKU, and no item (product, claim, count, posting) nor event appeared
    assert answer.status == 409
    assert answer.error_code == "sku_taken"
    assert answer.body["error"]["details"] == {"skus": ["TEE-RED-M"]}
    assert len(world.items()) == len(before)
    assert world.items() == before
    assert world.published() == []


def test_an_update_cannot_take_another_products_sku(
    world: CatalogWorld, call_admin: Handler, api_event: EventFactory, create_product: Create
) -> None:
    # Given two products
    create_product(variants=[{"sku": "MUG-1"}])
    other = create_product(variants=[{"sku": "MUG-2"}])
    world.published()
    before = world.items()

    # When the second is updated to use the first one's SKU
    body = product_body(variants=[{"sku": "MUG-2"}, {"sku": "MUG-1"}])
    answer = call_admin(api_event("PUT", f"/products/{other['productId']}", body=body, groups=ADMIN))

    # Then it is 409 sku_taken and nothing changed
    assert (answer.status, answer.error_code) == (409, "sku_taken")
    assert world.items() == before
    assert world.published() == []


def test_a_product_may_drop_and_re_add_its_own_sku_but_nobody_else_may_take_it(
    world: CatalogWorld, call_admin: Handler, api_event: EventFactory, create_product: Create
) -> None:
    # Given a product that drops one of its SKUs
    product = create_product(variants=[{"sku": "CAP-1"}, {"sku": "CAP-2"}])
    path = f"/products/{product['productId']}"
    dropped = call_admin(api_event("PUT", path, body=product_body(variants=[{"sku": "CAP-1"}]), groups=ADMIN))
    assert dropped.status == 200

    # When another product tries the dropped SKU, and the owner re-adds it
    thief = call_admin(api_event("POST", "/products", body=product_body(variants=[{"sku": "CAP-2"}]), groups=ADMIN))
    owner = call_admin(
        api_event("PUT", path, body=product_body(variants=[{"sku": "CAP-1"}, {"sku": "CAP-2"}]), groups=ADMIN)
    )

    # Then claims are never released to others, but the owner gets it back
    assert (thief.status, thief.error_code) == (409, "sku_taken")
    assert owner.status == 200
    assert [v["sku"] for v in owner.body["variants"]] == ["CAP-1", "CAP-2"]


# ---------------------------------------------------------------- update


def test_update_replaces_the_product_bumps_its_version_and_announces_it(
    world: CatalogWorld, call_admin: Handler, call_public: Handler, api_event: EventFactory, create_product: Create
) -> None:
    # Given a product
    product = create_product(name="Wool Scarf", tags=["winter"])
    world.published()

    # When an admin replaces it
    body = product_body(name="Silk Scarf", tags=["summer"], variants=[{"sku": "SCARF-1"}])
    answer = call_admin(api_event("PUT", f"/products/{product['productId']}", body=body, groups=ADMIN))

    # Then the product is the new one at version 2, created_at kept, and ProductChanged#id#2 went out
    assert answer.status == 200
    assert (answer.body["name"], answer.body["version"]) == ("Silk Scarf", 2)
    assert answer.body["createdAt"] == product["createdAt"]
    assert catalog_view(call_public(api_event("GET", f"/products/{product['productId']}")).body) == catalog_view(
        answer.body
    )
    assert [e["detail"]["eventId"] for e in world.published()] == [f"ProductChanged#{product['productId']}#2"]


def test_update_replaces_search_tokens(
    world: CatalogWorld, call_admin: Handler, call_public: Handler, api_event: EventFactory, create_product: Create
) -> None:
    # Given a wool scarf, found by "wool" and "winter"
    product = create_product(name="Wool Scarf", tags=["winter"], description="")
    assert len(call_public(api_event("GET", "/products", query={"q": "wool"})).body["items"]) == 1

    # When it becomes a silk scarf tagged summer
    body = product_body(name="Silk Scarf", tags=["summer"], description="")
    assert call_admin(api_event("PUT", f"/products/{product['productId']}", body=body, groups=ADMIN)).status == 200

    # Then old words no longer find it, new words do, and no stale posting is left behind
    def found(q: str) -> list[str]:
        return [p["productId"] for p in call_public(api_event("GET", "/products", query={"q": q})).body["items"]]

    assert found("wool") == []
    assert found("winter") == []
    assert found("silk") == [product["productId"]]
    assert found("SUMMER scarf") == [product["productId"]]
    postings = {item["PK"]["S"] for item in world.items() if item["PK"]["S"].startswith("TOKEN#")}
    assert postings == {"TOKEN#silk", "TOKEN#scarf", "TOKEN#summer"}


def test_update_of_an_unknown_product_is_404(world: CatalogWorld, call_admin: Handler, api_event: EventFactory) -> None:
    for product_id in ("p_01jd8x0000000000000000000a", "not-an-id"):
        answer = call_admin(api_event("PUT", f"/products/{product_id}", body=product_body(), groups=ADMIN))
        assert (answer.status, answer.error_code) == (404, "not_found")
    assert world.items() == []


# ---------------------------------------------------------------- archive


def test_archive_hides_the_product_everywhere(
    world: CatalogWorld, call_admin: Handler, call_public: Handler, api_event: EventFactory, create_product: Create
) -> None:
    # Given a product and a neighbour in the same category
    product = create_product(name="Velvet Hat", category="Hats")
    neighbour = create_product(name="Straw Hat", category="Hats")
    world.published()

    # When the product is archived
    answer = call_admin(api_event("DELETE", f"/products/{product['productId']}", groups=ADMIN))

    # Then it answers the archived product at the next version
    assert answer.status == 200
    assert (answer.body["status"], answer.body["version"]) == ("ARCHIVED", 2)

    # And it vanished from detail, listing, category listing and search
    detail = call_public(api_event("GET", f"/products/{product['productId']}"))
    assert (detail.status, detail.error_code) == (404, "not_found")
    listed = call_public(api_event("GET", "/products")).body["items"]
    in_category = call_public(api_event("GET", "/products", query={"category": "hats"})).body["items"]
    searched = call_public(api_event("GET", "/products", query={"q": "velvet"})).body["items"]
    assert [p["productId"] for p in listed] == [neighbour["productId"]]
    assert [p["productId"] for p in in_category] == [neighbour["productId"]]
    assert searched == []

    # And its SKU claims remain (orders and stock refer to them), its postings do not
    keys = {item["PK"]["S"] for item in world.items()}
    assert {f"SKU#{v['sku']}" for v in product["variants"]} <= keys
    assert "TOKEN#velvet" not in keys

    # And ProductChanged announced the archive as version 2
    [event] = world.published()
    assert event["detail"]["eventId"] == f"ProductChanged#{product['productId']}#2"
    assert event["detail"]["data"]["status"] == "ARCHIVED"


def test_archiving_twice_is_fine_and_re_announces_the_same_fact(
    world: CatalogWorld, call_admin: Handler, api_event: EventFactory, create_product: Create
) -> None:
    # Given an archived product
    product = create_product()
    path = f"/products/{product['productId']}"
    first = call_admin(api_event("DELETE", path, groups=ADMIN))
    world.published()
    before = world.items()

    # When it is archived again
    second = call_admin(api_event("DELETE", path, groups=ADMIN))

    # Then it answers the same archived product, writes nothing, and re-sends the same event id
    assert second.status == 200
    assert second.body == first.body
    assert world.items() == before
    assert [e["detail"]["eventId"] for e in world.published()] == [f"ProductChanged#{product['productId']}#2"]


def test_archiving_an_unknown_product_is_404(world: CatalogWorld, call_admin: Handler, api_event: EventFactory) -> None:
    answer = call_admin(api_event("DELETE", "/products/p_01jd8x0000000000000000000a", groups=ADMIN))
    assert (answer.status, answer.error_code) == (404, "not_found")


def test_an_archived_product_cannot_be_updated(
    world: CatalogWorld, call_admin: Handler, api_event: EventFactory, create_product: Create
) -> None:
    # Given an archived product
    product = create_product()
    path = f"/products/{product['productId']}"
    call_admin(api_event("DELETE", path, groups=ADMIN))
    world.published()
    before = world.items()

    # When an admin tries to replace it
    answer = call_admin(api_event("PUT", path, body=product_body(), groups=ADMIN))

    # Then it is a 409 product_archived and nothing changed
    assert (answer.status, answer.error_code) == (409, "product_archived")
    assert world.items() == before
    assert world.published() == []


# ---------------------------------------------------------------- concurrency and AWS faults


def _bump_version_before_each_write(world: CatalogWorld, product_id: str, times: int) -> list[str]:
    """Make someone else edit the product between the handler's read and its transaction, `times` times.
    The edit is real (a version bump in moto), so the handler's conditional write really fails."""
    other_writer = boto3.client("dynamodb", region_name=REGION)
    writes: list[str] = []

    def interfere(**_: Any) -> None:
        writes.append("attempt")
        if len(writes) <= times:
            other_writer.update_item(
                TableName=world.table,
                Key={"PK": {"S": f"PRODUCT#{product_id}"}, "SK": {"S": "META"}},
                UpdateExpression="SET #v = #v + :one",
                ExpressionAttributeNames={"#v": "version"},
                ExpressionAttributeValues={":one": {"N": "1"}},
            )

    dynamodb_client().meta.events.register("before-call.dynamodb.TransactWriteItems", interfere)
    return writes


def test_a_concurrent_edit_is_retried_on_the_fresh_version(
    world: CatalogWorld, call_admin: Handler, api_event: EventFactory, create_product: Create
) -> None:
    # Given a product that someone else edits once between our read and our write
    product = create_product(name="Race Tee")
    world.published()
    attempts = _bump_version_before_each_write(world, product["productId"], times=1)

    # When an admin replaces it
    body = product_body(name="Race Tee v2")
    answer = call_admin(api_event("PUT", f"/products/{product['productId']}", body=body, groups=ADMIN))

    # Then the conditional write failed once, was re-applied on version 2, and the result is version 3
    assert len(attempts) == 2
    assert answer.status == 200
    assert (answer.body["name"], answer.body["version"]) == ("Race Tee v2", 3)
    assert [e["detail"]["eventId"] for e in world.published()] == [f"ProductChanged#{product['productId']}#3"]


def test_a_product_that_keeps_changing_is_a_409_concurrent_update(
    world: CatalogWorld, call_admin: Handler, api_event: EventFactory, create_product: Create
) -> None:
    # Given a product that someone else edits before every one of our writes
    product = create_product(name="Busy Tee")
    world.published()
    attempts = _bump_version_before_each_write(world, product["productId"], times=100)

    # When an admin replaces it
    answer = call_admin(api_event("PUT", f"/products/{product['productId']}", body=product_body(), groups=ADMIN))

    # Then it gave up after a few attempts with 409 concurrent_update, and announced nothing
    assert len(attempts) == 3
    assert (answer.status, answer.error_code) == (409, "concurrent_update")
    assert world.published() == []
    assert world.item(f"PRODUCT#{product['productId']}")["name"]["S"] == "Busy Tee"  # type: ignore[index]


def test_a_concurrent_edit_during_archive_is_retried(
    world: CatalogWorld, call_admin: Handler, api_event: EventFactory, create_product: Create
) -> None:
    # Given a product edited by someone else just before our archive writes
    product = create_product()
    attempts = _bump_version_before_each_write(world, product["productId"], times=1)

    # When it is archived
    answer = call_admin(api_event("DELETE", f"/products/{product['productId']}", groups=ADMIN))

    # Then the archive was re-applied on the fresh version
    assert len(attempts) == 2
    assert (answer.status, answer.body["status"], answer.body["version"]) == (200, "ARCHIVED", 3)


def test_a_create_whose_announcement_failed_is_announced_once_the_client_retries(
    world: CatalogWorld, call_admin: Handler, api_event: EventFactory
) -> None:
    # Given EventBridge refuses the ProductChanged of a create
    body = product_body()
    with Stubber(events_client()) as stub:
        stub.add_response(
            "put_events",
            {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}]},
        )
        first = call_admin(api_event("POST", "/products", body=body, groups=ADMIN))
    assert first.status >= 500

    # When the admin retries the same request, as a 5xx invites
    call_admin(api_event("POST", "/products", body=body, groups=ADMIN))

    # Then every product that exists has been announced (inventory creates stock from ProductChanged)
    stored = {item["productId"]["S"] for item in product_items(world)}
    announced = {event["detail"]["data"]["productId"] for event in world.published()}
    assert stored
    assert stored <= announced


def test_throttled_writes_are_a_503_and_write_nothing(
    world: CatalogWorld, call_admin: Handler, api_event: EventFactory
) -> None:
    # Given DynamoDB throttles the create transaction (after botocore's own retries)
    with Stubber(dynamodb_client()) as stub:
        stub.add_client_error("transact_write_items", "ProvisionedThroughputExceededException", http_status_code=400)

        # When an admin creates a product
        answer: Answer = call_admin(api_event("POST", "/products", body=product_body(), groups=ADMIN))

        stub.assert_no_pending_responses()

    # Then the client is told to retry, in the one error shape, and nothing was written or announced
    assert (answer.status, answer.error_code) == (503, "service_unavailable")
    assert world.items() == []
    assert world.published() == []
