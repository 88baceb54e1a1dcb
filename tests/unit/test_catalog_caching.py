"""The catalog's entity tags and preconditions, without AWS: what `If-None-Match` and `If-Match` accept."""

import pytest

from catalog import caching
from catalog.models import CategoryOut, CategoryPage


def _page(count: int, cursor: str | None = None) -> CategoryPage:
    return CategoryPage(items=[CategoryOut(slug="tees", name="Tees", product_count=count)], next_cursor=cursor)


def test_a_digest_tag_is_strong_stable_and_changes_with_any_field() -> None:
    tag = caching.digest_tag(_page(3))
    assert tag.startswith('"') and tag.endswith('"') and not tag.startswith("W/")
    assert caching.digest_tag(_page(3)) == tag
    assert caching.digest_tag(_page(4)) != tag
    assert caching.digest_tag(_page(3, cursor="abc")) != tag


def test_a_version_tag_names_the_version_with_or_without_a_digest() -> None:
    assert caching.version_tag(7) == '"v7"'
    assert caching.version_tag(7, _page(1)).startswith('"v7-')
    assert caching.version_tag(7, _page(1)) != caching.version_tag(7, _page(2))


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        (None, False),
        ("", False),
        ('"t"', True),
        ('W/"t"', True),
        ('"x", "t"', True),
        ("*", True),
        ('"x"', False),
        ("t", False),
    ],
)
def test_if_none_match_compares_weakly_in_a_list(header: str | None, matches: bool) -> None:
    assert caching.none_match(header, '"t"') is matches


@pytest.mark.parametrize(
    ("header", "versions"),
    [
        (None, None),
        ("  ", None),
        ("*", None),
        ('"v3"', {3}),
        ('"v3-0a1b", "v5"', {3, 5}),
        ('W/"v3"', set()),
        ('"3"', set()),
        ("v3", set()),
        ('"v3-XYZ"', set()),
        ('"v99999999999999999999"', set()),
    ],
)
def test_if_match_names_versions_by_strong_product_tags_only(header: str | None, versions: set[int] | None) -> None:
    found = caching.matched_versions(header)
    assert (None if found is None else set(found)) == versions
