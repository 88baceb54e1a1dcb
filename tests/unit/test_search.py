import pytest

from catalog.search import (
    MAX_INDEX_TOKENS,
    MAX_QUERY_TOKENS,
    fold,
    index_tokens,
    query_tokens,
    slugify,
    sort_key,
    words,
)


def test_folding_removes_accents_and_case() -> None:
    # Given words with accents, capitals and a German sharp s
    # When they are folded
    # Then they compare equal to their plain lower-case spelling
    assert fold("Crème BRÛLÉE") == "creme brulee"
    assert fold("Straße") == "strasse"
    assert fold("ÉCHARPE") == fold("écharpe") == "echarpe"


def test_words_drop_stop_words_short_and_overlong_words() -> None:
    # Given text with stop words in several languages, a one-letter word and a 41-letter word
    text = "The Tee for the Beach, avec des Fleurs und mit a T " + "x" * 41

    # When its words are taken
    # Then only the meaningful ones are left, in order
    assert words(text) == ["tee", "beach", "fleurs"]


def test_words_split_on_punctuation_and_keep_digits() -> None:
    assert words("T-shirt 100% coton (bio)") == ["shirt", "100", "coton", "bio"]


def test_query_tokens_are_unique_folded_and_capped() -> None:
    # Given a query repeating words in several spellings, and more words than the cap
    many = " ".join(f"word{i}" for i in range(MAX_QUERY_TOKENS + 5))

    # When it is tokenised
    # Then duplicates collapse and the cap holds
    assert query_tokens("Écharpe echarpe ÉCHARPE laine") == ("echarpe", "laine")
    assert len(query_tokens(many)) == MAX_QUERY_TOKENS
    assert query_tokens("the and of") == ()


def test_index_tokens_order_name_then_tags_then_description() -> None:
    # Given a product's name, tags and description sharing a word
    tokens = index_tokens("Linen Shirt", ["Summer", "Linen"], "A light shirt for warm days")

    # When it is indexed
    # Then each word appears once, name words first
    assert tokens == ("linen", "shirt", "summer", "light", "warm", "days")


def test_the_token_cap_keeps_name_and_tag_words_over_description_words() -> None:
    # Given a description far longer than the token cap
    description = " ".join(f"filler{i}" for i in range(200))

    # When the product is indexed
    tokens = index_tokens("Velvet Écharpe", ["Hiver", "Cadeau noël"], description)

    # Then the cap holds, and every name and tag word survived it
    assert len(tokens) == MAX_INDEX_TOKENS
    assert {"velvet", "echarpe", "hiver", "cadeau", "noel"} <= set(tokens)
    assert tokens[:5] == ("velvet", "echarpe", "hiver", "cadeau", "noel")


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Tee Shirts & Tops", "tee-shirts-tops"),
        ("  Écharpes  ", "echarpes"),
        ("Home/Garden", "home-garden"),
        ("---", ""),
        ("€€€", ""),
        ("A" * 100, "a" * 80),
    ],
)
def test_slugify(text: str, slug: str) -> None:
    # Given a category name
    # When it is slugified
    # Then it is URL-safe lower-case ASCII, or empty if nothing is left
    assert slugify(text) == slug


def test_sort_key_lists_accented_names_with_their_plain_spelling() -> None:
    # Given names with and without accents
    names = ["Zebra mug", "Écharpe", "eagle tee"]

    # When they are sorted by sort key
    # Then Écharpe sorts among the e's, not after z
    assert sorted(names, key=sort_key) == ["eagle tee", "Écharpe", "Zebra mug"]
