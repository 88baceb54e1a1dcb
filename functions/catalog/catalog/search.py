"""Keyword search without a search engine: words are folded to plain lower-case ASCII, stop-words are
dropped, and each product indexes at most `MAX_INDEX_TOKENS` words (name and tag words first) so that
its postings fit in the same DynamoDB transaction as the product itself."""

import re
import unicodedata
from collections.abc import Iterable

MAX_INDEX_TOKENS = 30
MAX_NAME_TOKENS = 20
MAX_QUERY_TOKENS = 8
MIN_TOKEN_LENGTH = 2
MAX_TOKEN_LENGTH = 40

STOP_WORDS = frozenset(
    {
        # English
        *("a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "has", "have", "in", "into"),
        *("is", "it", "its", "of", "on", "or", "our", "so", "than", "that", "the", "their", "then", "there"),
        *("these", "this", "those", "to", "was", "were", "will", "with", "you", "your"),
        # French, German, Spanish
        *("au", "aux", "avec", "ce", "ces", "dans", "de", "des", "du", "en", "et", "la", "le", "les", "un"),
        *("une", "pour", "par", "sur", "der", "die", "das", "und", "ein", "eine", "mit", "fur", "von"),
        *("el", "los", "las", "con", "para", "por"),
    }
)

_WORD = re.compile(r"[a-z0-9]+")
_NON_SLUG = re.compile(r"[^a-z0-9]+")


def fold(text: str) -> str:
    """Lower-case `text` and strip accents, so 'Crème' and 'creme' are one word."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    """The searchable words of `text`, in order, duplicates kept."""
    return [
        word
        for word in _WORD.findall(fold(text))
        if MIN_TOKEN_LENGTH <= len(word) <= MAX_TOKEN_LENGTH and word not in STOP_WORDS
    ]


def _unique(tokens: Iterable[str], limit: int) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for token in tokens:
        if len(seen) >= limit:
            break
        seen.setdefault(token, None)
    return tuple(seen)


def index_tokens(name: str, tags: Iterable[str], description: str) -> tuple[str, ...]:
    """The words a product is found by: name words (at most `MAX_NAME_TOKENS`, so a very long name
    leaves room for the tags), then tag words, then description words, `MAX_INDEX_TOKENS` in all."""
    ordered = [*_unique(words(name), MAX_NAME_TOKENS)]
    for tag in tags:
        ordered.extend(words(tag))
    ordered.extend(words(description))
    return _unique(ordered, MAX_INDEX_TOKENS)


def query_tokens(q: str) -> tuple[str, ...]:
    """The words of a search query; a product matches when it has all of them."""
    return _unique(words(q), MAX_QUERY_TOKENS)


def slugify(text: str) -> str:
    """A URL-safe category key: 'Tee Shirts & Tops' -> 'tee-shirts-tops'. Empty if nothing is left."""
    return _NON_SLUG.sub("-", fold(text)).strip("-")[:80]


def sort_key(name: str) -> str:
    """The folded name products are listed by, so 'Écharpe' sorts with 'echarpe', not after 'z'."""
    return " ".join(_WORD.findall(fold(name)))[:200]
