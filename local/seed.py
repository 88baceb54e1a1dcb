"""Seed the demo catalog through the real admin API over HTTP, so seeding exercises the path a client
takes (authorizer, validation, handler, table). Requests run in parallel to keep a start quick; moto
state is fresh on every start, so there is nothing to clean up first."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests


class SeedFailed(Exception):
    pass


def seed_products(api_url: str, admin_token: str, products: Iterable[dict[str, Any]], workers: int = 8) -> int:
    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=workers))
    headers = {"Authorization": admin_token, "Content-Type": "application/json"}

    def create(product: dict[str, Any]) -> None:
        response = session.post(f"{api_url}/products", json=product, headers=headers, timeout=30)
        if response.status_code != 201:
            raise SeedFailed(f"POST /products {product['name']!r} -> {response.status_code}: {response.text[:500]}")

    items = list(products)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(create, items))
    return len(items)
