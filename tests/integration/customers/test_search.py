"""Support finds a customer by the first letters of their email or name (`GET /admin/customers?q=`),
case-insensitive, from search items kept on profile writes and on a first paid order: one index query,
never a scan; an erased customer's items are gone."""

from collections.abc import Callable
from typing import Any

import pytest

from common.contracts import AnonymisedOrders
from customers import api

from .conftest import World, line, snapshot

Event = Callable[..., dict[str, Any]]


class NothingOpen:
    def anonymise(self, customer_id: str) -> AnonymisedOrders:
        return AnonymisedOrders(anonymised=[], open=[])


def save_profile(world: World, api_event: Event, sub: str, email: str, name: str) -> None:
    event = api_event("PUT", "/me", sub=sub, body={"name": name, "marketingConsent": False})
    event["requestContext"]["authorizer"]["claims"]["email"] = email
    answer = world.call(event)
    assert answer.status == 200, answer.body


def search(world: World, api_event: Event, q: str, group: str = "support", **query: Any) -> Any:
    return world.call(api_event("GET", "/admin/customers", query={"q": q, **query}, groups=[group]))


def found(world: World, api_event: Event, q: str) -> list[str]:
    answer = search(world, api_event, q)
    assert answer.status == 200, answer.body
    return [hit["customerId"] for hit in answer.body["items"]]


@pytest.fixture
def people(world: World, api_event: Event) -> World:
    save_profile(world, api_event, "alice", "Alice.Liddell@Example.com", "Alice Liddell")
    save_profile(world, api_event, "bob", "bob@example.com", "Bob Alison")
    save_profile(world, api_event, "carol", "carol@example.com", "Carol Malice")
    return world


def test_support_finds_a_customer_by_the_first_letters_of_the_email_or_the_name(
    people: World, api_event: Event
) -> None:
    # Given Alice, Bob (surname Alison) and Carol (surname Malice)
    # When support searches "ali", any case
    answer = search(people, api_event, "ALI")
    # Then Alice is found once (by email and name), Bob by his surname, and Carol not ("malice" only
    # contains it): the email and name shown are the profile's
    assert answer.status == 200, answer.body
    assert sorted(hit["customerId"] for hit in answer.body["items"]) == ["alice", "bob"]
    alice = next(hit for hit in answer.body["items"] if hit["customerId"] == "alice")
    assert alice == {"customerId": "alice", "email": "Alice.Liddell@Example.com", "name": "Alice Liddell"}
    assert answer.body["nextCursor"] is None
    # And the email's first letters find her too, the name's middle does not
    assert found(people, api_event, "alice.li") == ["alice"]
    assert found(people, api_event, "Liddell") == ["alice"]
    assert found(people, api_event, "iddell") == []
    assert found(people, api_event, "example") == []


def test_a_search_is_one_index_query_not_a_scan(people: World, api_event: Event) -> None:
    calls: list[str] = []

    def before_call(model: Any, **_: Any) -> None:
        calls.append(model.name)

    from common.dynamo import dynamodb_client

    dynamodb_client().meta.events.register("before-call.dynamodb", before_call)
    assert found(people, api_event, "bo") == ["bob"]
    assert "Scan" not in calls
    assert calls.count("Query") == 1


def test_a_renamed_customer_is_found_by_the_new_name_only(people: World, api_event: Event) -> None:
    # When Bob renames himself
    save_profile(people, api_event, "bob", "bob@example.com", "Robert Stone")
    # Then the new name finds him and the old surname no longer does
    assert found(people, api_event, "sto") == ["bob"]
    assert found(people, api_event, "rob") == ["bob"]
    assert found(people, api_event, "alis") == []


def test_a_customer_without_a_profile_is_found_by_the_email_of_their_first_paid_order(
    world: World, api_event: Event
) -> None:
    # Given Dave never saved a profile, and pays his first order
    data = snapshot("o_d1", "dave", [line("p1")]) | {"email": "Dave@Example.org"}
    world.deliver("OrderPaid", "OrderPaid#o_d1", data)
    # Then support finds him by his email
    assert found(world, api_event, "dav") == ["dave"]
    assert search(world, api_event, "dav").body["items"][0]["email"] == "Dave@Example.org"


def test_search_items_are_gone_after_erasure(people: World, api_event: Event, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api, "orders", NothingOpen)
    # When Alice erases her data
    assert people.call(api_event("DELETE", "/me", sub="alice")).status == 204
    # Then she is found neither by email nor by name, and no search item of hers is left
    assert found(people, api_event, "ali") == ["bob"]
    assert not [i for i in people.items() if i["PK"]["S"] == "CUSTOMER#alice" and i["SK"]["S"].startswith("SEARCH#")]
    # And a late paid order of hers (placed before erasure) does not bring them back
    data = snapshot("o_a1", "alice", [line("p1")]) | {"email": "alice.liddell@example.com"}
    people.deliver("OrderPaid", "OrderPaid#o_a1", data)
    assert found(people, api_event, "alice") == []


def test_results_come_in_pages(world: World, api_event: Event) -> None:
    # Given five customers named Smith
    for number in range(5):
        save_profile(world, api_event, f"s{number}", f"x{number}@example.com", f"Jo Smith{number}")
    # When support pages through "smi" two at a time
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        query: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        answer = search(world, api_event, "smi", **query)
        assert answer.status == 200, answer.body
        seen += [hit["customerId"] for hit in answer.body["items"]]
        cursor = answer.body["nextCursor"]
        if cursor is None:
            break
    # Then every one of them is seen once
    assert sorted(seen) == [f"s{n}" for n in range(5)]
    # And a cursor of another query is refused
    other = search(world, api_event, "smo", limit=2)
    assert other.status == 200
    first = search(world, api_event, "smi", limit=2).body["nextCursor"]
    assert search(world, api_event, "jo", cursor=first).status == 400


@pytest.mark.parametrize("q", ["a", " a ", "", "x" * 101])
def test_a_query_shorter_than_two_letters_or_too_long_is_refused(world: World, api_event: Event, q: str) -> None:
    assert search(world, api_event, q).status == 422


@pytest.mark.parametrize(("group", "status"), [("admin", 200), ("support", 200), ("affiliate", 403)])
def test_only_staff_search(world: World, api_event: Event, group: str, status: int) -> None:
    assert search(world, api_event, "al", group=group).status == status
    customer = world.call(api_event("GET", "/admin/customers", query={"q": "al"}, sub="alice"))
    assert customer.status == 403
