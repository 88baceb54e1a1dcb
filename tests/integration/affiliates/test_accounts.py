"""Applying, approval into the Cognito group, the affiliate's dashboard, and who may reach what."""

from collections.abc import Callable

import pytest

from tests.integration.affiliates.conftest import APPLICATION, AffiliatesWorld, Call, Partner, User

NewUser = Callable[[str], User]


def test_a_signed_in_user_applies_once(call: Call, new_user: NewUser) -> None:
    # Given a signed-in customer
    ada = new_user("ada@example.com")
    # When she applies
    applied = call("POST", "/affiliates", user=ada, body=APPLICATION)
    # Then she gets a PENDING account with a referral code checkout accepts
    assert applied.status == 201, applied.body
    assert applied.headers["Location"] == "/dev/affiliates/me"  # behind the stage the request came through
    assert applied.body["status"] == "PENDING"
    assert applied.body["affiliateId"].startswith("af_")
    assert len(applied.body["code"]) == 8
    assert applied.body["code"].isalnum()
    assert applied.body["commissionRate"] is None
    assert applied.body["payoutEmail"] == APPLICATION["payoutEmail"]
    # When she applies again
    again = call("POST", "/affiliates", user=ada, body={**APPLICATION, "name": "Another Blog"})
    # Then it is a conflict naming her account
    assert again.status == 409
    assert again.error_code == "already_applied"
    assert again.body["error"]["details"]["affiliateId"] == applied.body["affiliateId"]


def test_an_application_needs_a_caller_and_a_valid_body(call: Call, new_user: NewUser) -> None:
    # Given no token at all, then a signed-in user with a bad body
    anonymous = call("POST", "/affiliates", body=APPLICATION)
    bad = call("POST", "/affiliates", user=new_user("bo@example.com"), body={**APPLICATION, "website": "not a url"})
    # Then 401, and 422 naming the field
    assert anonymous.status == 401
    assert bad.status == 422
    assert [d["field"] for d in bad.body["error"]["details"]] == ["body.website"]


def test_approval_puts_the_user_in_the_affiliate_group(world: AffiliatesWorld, call: Call, new_user: NewUser) -> None:
    # Given an application
    cy = new_user("cy@example.com")
    affiliate_id = call("POST", "/affiliates", user=cy, body=APPLICATION).body["affiliateId"]
    assert world.groups_of(cy) == set()
    # When an admin approves it at 12.5 %
    approved = call("POST", f"/affiliates/{affiliate_id}/approve", groups=["admin"], body={"commissionRate": 0.125})
    # Then the account is APPROVED at that rate and Cognito has the user in the group
    assert approved.status == 200, approved.body
    assert (approved.body["status"], approved.body["commissionRate"]) == ("APPROVED", 0.125)
    assert approved.body["approvedAt"] is not None
    assert world.groups_of(cy) == {"affiliate"}
    # And approving again at the same rate is harmless; another rate is a conflict
    same = call("POST", f"/affiliates/{affiliate_id}/approve", groups=["admin"], body={"commissionRate": 0.125})
    other = call("POST", f"/affiliates/{affiliate_id}/approve", groups=["admin"], body={"commissionRate": 0.2})
    assert same.status == 200
    assert (other.status, other.error_code) == (409, "already_approved")


@pytest.mark.parametrize("rate", [0, -0.1, 0.51, 1, "ten"])
def test_a_rate_outside_zero_to_half_is_refused(call: Call, new_user: NewUser, rate: object) -> None:
    affiliate_id = call("POST", "/affiliates", user=new_user("dee@example.com"), body=APPLICATION).body["affiliateId"]
    answer = call("POST", f"/affiliates/{affiliate_id}/approve", groups=["admin"], body={"commissionRate": rate})
    assert answer.status == 422
    assert answer.body["error"]["details"][0]["field"] == "body.commissionRate"


def test_unknown_affiliates_are_404(call: Call) -> None:
    unknown = "af_01jd8x0000000000000000000a"
    assert call("POST", f"/affiliates/{unknown}/approve", groups=["admin"], body={"commissionRate": 0.1}).status == 404
    assert call("POST", f"/affiliates/{unknown}/payouts", groups=["admin"]).status == 404
    assert call("POST", "/affiliates/not-an-id/payouts", groups=["admin"]).status == 404


def test_an_approved_affiliate_sees_code_link_rate_and_totals(
    call: Call, approved_affiliate: Callable[..., Partner]
) -> None:
    # Given an approved affiliate, whose next token carries the group
    partner = approved_affiliate(rate=0.1)
    # When they read their dashboard
    me = call("GET", "/affiliates/me", user=partner.user, groups=["affiliate"])
    # Then they see their code, link, rate and zero totals in the shop's currency
    assert me.status == 200, me.body
    assert me.body["code"] == partner.code
    assert me.body["referralLink"] == f"https://shop.example.com/?ref={partner.code}"
    assert me.body["commissionRate"] == 0.1
    zero = {"amount": 0, "currency": "EUR"}
    assert me.body["totals"] == {"pending": zero, "approved": zero, "paid": zero, "reversed": zero}
    page = call("GET", "/affiliates/me/commissions", user=partner.user, groups=["affiliate"])
    assert (page.status, page.body) == (200, {"items": [], "nextCursor": None})


def test_affiliate_routes_are_for_approved_affiliates_and_admins(
    call: Call, new_user: NewUser, approved_affiliate: Callable[..., Partner]
) -> None:
    # Given a customer who applied but is not approved, an approved affiliate, and an admin without an account
    pending = new_user("pending@example.com")
    call("POST", "/affiliates", user=pending, body=APPLICATION)
    partner = approved_affiliate()
    for path in ("/affiliates/me/commissions",):
        # Then without claims it is 401, a customer (even one who applied) 403, support 403
        assert call("GET", path).status == 401
        assert call("GET", path, user=pending).status == 403
        assert call("GET", path, groups=["support"]).status == 403
        # An affiliate 200, an admin without an affiliate account 404
        assert call("GET", path, user=partner.user, groups=["affiliate"]).status == 200
        assert call("GET", path, groups=["admin"]).status == 404
    # And one's own account (where `POST /affiliates` points) is one's own to read, pending or approved:
    # 401 without claims, 404 for anyone without an account (support, admin, a customer who never applied)
    assert call("GET", "/affiliates/me").status == 401
    mine = call("GET", "/affiliates/me", user=pending)
    assert (mine.status, mine.body["status"], mine.body["commissionRate"]) == (200, "PENDING", None)
    assert call("GET", "/affiliates/me", groups=["support"]).status == 404
    assert call("GET", "/affiliates/me", user=partner.user, groups=["affiliate"]).status == 200
    assert call("GET", "/affiliates/me", groups=["admin"]).status == 404
    # And staff routes are the admin's alone
    target = partner.affiliate_id
    for who in ({"user": pending}, {"user": partner.user, "groups": ["affiliate"]}, {"groups": ["support"]}):
        assert call("GET", "/admin/affiliates", **who).status == 403
        assert call("POST", f"/affiliates/{target}/payouts", **who).status == 403
        approve = call("POST", f"/affiliates/{target}/approve", body={}, **who)
        assert approve.status == 403  # before the body is validated
    assert call("GET", "/admin/affiliates").status == 401
    assert call("GET", "/admin/affiliates", groups=["admin"]).status == 200


def test_admins_list_every_account_newest_first_in_pages(call: Call, new_user: NewUser) -> None:
    # Given three applications
    ids = [
        call("POST", "/affiliates", user=new_user(f"list{n}@example.com"), body=APPLICATION).body["affiliateId"]
        for n in range(3)
    ]
    # When an admin pages through two at a time
    first = call("GET", "/admin/affiliates", groups=["admin"], query={"limit": 2})
    second = call("GET", "/admin/affiliates", groups=["admin"], query={"limit": 2, "cursor": first.body["nextCursor"]})
    # Then they see all three, newest first, once each
    listed = [a["affiliateId"] for a in first.body["items"] + second.body["items"]]
    assert listed == list(reversed(ids))
    assert second.body["nextCursor"] is None
    assert first.body["items"][0]["totals"]["pending"] == {"amount": 0, "currency": "EUR"}
