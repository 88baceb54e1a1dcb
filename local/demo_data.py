"""Demo catalog for the local stack: 32 products over 5 categories, prices in EUR cents.

Each entry is exactly the body of `POST /products`, so seeding exercises the real admin API."""

from __future__ import annotations

from typing import Any


def _product(
    name: str,
    category: str,
    price: int,
    description: str,
    tags: list[str],
    sku: str,
    variants: list[dict[str, str]],
) -> dict[str, Any]:
    return {
        "name": name,
        "description": description,
        "category": category,
        "tags": tags,
        "price": {"amount": price, "currency": "EUR"},
        "variants": [
            {
                "sku": "-".join([sku, *(v.upper().replace(" ", "") for v in attributes.values())]),
                "attributes": attributes,
            }
            for attributes in variants
        ],
        "images": [],
    }


def _sizes(colour: str, *sizes: str) -> list[dict[str, str]]:
    return [{"colour": colour, "size": size} for size in sizes]


PRODUCTS: list[dict[str, Any]] = [
    # ------------------------------------------------------------------ apparel
    _product(
        "Organic Cotton Tee",
        "apparel",
        2499,
        "A heavyweight tee in GOTS-certified organic cotton, cut for a relaxed fit.",
        ["cotton", "organic", "basics"],
        "TEE",
        [*_sizes("red", "S", "M", "L"), {"colour": "navy", "size": "M"}],
    ),
    _product(
        "Merino Crew Sweater",
        "apparel",
        8900,
        "Fine-gauge merino wool that breathes in summer and warms in winter.",
        ["wool", "merino", "knitwear"],
        "MERINO",
        _sizes("grey", "S", "M", "L"),
    ),
    _product(
        "Waxed Canvas Jacket",
        "apparel",
        18900,
        "Water-resistant waxed canvas with a corduroy collar and brass snaps.",
        ["jacket", "canvas", "outerwear"],
        "JACKET",
        _sizes("olive", "M", "L"),
    ),
    _product(
        "Linen Button Shirt",
        "apparel",
        5900,
        "Washed European linen, soft from the first wear, with mother-of-pearl buttons.",
        ["linen", "shirt", "summer"],
        "LINEN",
        _sizes("white", "S", "M", "L", "XL"),
    ),
    _product(
        "Selvedge Denim Jeans",
        "apparel",
        12900,
        "Japanese selvedge denim, raw and unwashed, tapered leg.",
        ["denim", "jeans", "raw"],
        "JEANS",
        [{"waist": "30"}, {"waist": "32"}, {"waist": "34"}],
    ),
    _product(
        "Alpaca Beanie",
        "apparel",
        3400,
        "A ribbed beanie knitted from baby alpaca, lighter and warmer than wool.",
        ["alpaca", "hat", "winter"],
        "BEANIE",
        [{"colour": "charcoal"}, {"colour": "mustard"}],
    ),
    _product(
        "Everyday Running Socks",
        "apparel",
        1500,
        "Cushioned running socks with a seamless toe; three pairs per pack.",
        ["socks", "running", "sport"],
        "SOCKS",
        [{"size": "39-42"}, {"size": "43-46"}],
    ),
    # ------------------------------------------------------------------ home
    _product(
        "Stoneware Table Lamp",
        "home",
        7900,
        "A hand-thrown stoneware base with a natural linen shade.",
        ["lamp", "lighting", "stoneware"],
        "LAMP",
        [{"colour": "sand"}, {"colour": "slate"}],
    ),
    _product(
        "Wool Throw Blanket",
        "home",
        9500,
        "A herringbone throw woven from Shetland wool in a family mill.",
        ["blanket", "wool", "cosy"],
        "THROW",
        [{"colour": "oat"}, {"colour": "forest"}, {"colour": "rust"}],
    ),
    _product(
        "Linen Cushion Cover",
        "home",
        2900,
        "Stonewashed linen cushion cover with a hidden zip.",
        ["cushion", "linen", "textiles"],
        "CUSHION",
        [{"size": "45x45"}, {"size": "50x50"}],
    ),
    _product(
        "Soy Wax Candle",
        "home",
        2200,
        "Hand-poured soy candle scented with cedar and bergamot; burns 45 hours.",
        ["candle", "scent", "gift"],
        "CANDLE",
        [{"scent": "cedar"}, {"scent": "fig"}, {"scent": "amber"}],
    ),
    _product(
        "Oak Wall Shelf",
        "home",
        6400,
        "A solid oak floating shelf with concealed steel brackets.",
        ["shelf", "oak", "furniture"],
        "SHELF",
        [{"length": "60cm"}, {"length": "90cm"}],
    ),
    _product(
        "Rattan Storage Basket",
        "home",
        3900,
        "Hand-woven rattan basket for blankets, toys or firewood.",
        ["basket", "rattan", "storage"],
        "BASKET",
        [{"size": "M"}, {"size": "L"}],
    ),
    _product(
        "Ceramic Plant Pot",
        "home",
        2700,
        "Glazed ceramic pot with a drainage hole and a matching saucer.",
        ["plants", "ceramic", "pot"],
        "POT",
        [{"diameter": "14cm"}, {"diameter": "20cm"}, {"diameter": "26cm"}],
    ),
    # ------------------------------------------------------------------ kitchen
    _product(
        "Cast Iron Skillet",
        "kitchen",
        5400,
        "Pre-seasoned 26 cm cast iron skillet that lasts generations.",
        ["cast-iron", "cookware", "skillet"],
        "SKILLET",
        [{"size": "26cm"}, {"size": "30cm"}],
    ),
    _product(
        "Chef's Knife",
        "kitchen",
        11900,
        "A 20 cm chef's knife forged from Japanese VG-10 steel with an olive wood handle.",
        ["knife", "steel", "chef"],
        "KNIFE",
        [{"length": "20cm"}],
    ),
    _product(
        "Pour-Over Coffee Set",
        "kitchen",
        4600,
        "Porcelain dripper, glass carafe and 100 filters for a clean cup.",
        ["coffee", "pour-over", "porcelain"],
        "POUROVER",
        [{"colour": "white"}, {"colour": "black"}],
    ),
    _product(
        "Olive Wood Cutting Board",
        "kitchen",
        3800,
        "A single piece of olive wood, oiled and ready for bread and cheese.",
        ["board", "olive-wood", "serving"],
        "BOARD",
        [{"size": "S"}, {"size": "L"}],
    ),
    _product(
        "Enamel Dutch Oven",
        "kitchen",
        14900,
        "A 5 litre enamelled cast iron pot for stews, bread and braises.",
        ["dutch-oven", "enamel", "cookware"],
        "DUTCHOVEN",
        [{"colour": "cherry"}, {"colour": "cream"}, {"colour": "teal"}],
    ),
    _product(
        "Linen Tea Towels",
        "kitchen",
        1900,
        "Two absorbent linen tea towels that dry glasses without lint.",
        ["linen", "towel", "kitchen-textiles"],
        "TOWEL",
        [{"colour": "natural"}, {"colour": "blue-stripe"}],
    ),
    _product(
        "Stoneware Mug",
        "kitchen",
        1800,
        "A 350 ml hand-glazed stoneware mug, dishwasher safe.",
        ["mug", "stoneware", "coffee"],
        "MUG",
        [{"glaze": "speckled"}, {"glaze": "celadon"}, {"glaze": "ink"}, {"glaze": "honey"}],
    ),
    # ------------------------------------------------------------------ outdoor
    _product(
        "Trail Daypack",
        "outdoor",
        8900,
        "A 22 litre pack in recycled ripstop with a ventilated back panel.",
        ["backpack", "hiking", "recycled"],
        "DAYPACK",
        [{"colour": "moss"}, {"colour": "black"}],
    ),
    _product(
        "Insulated Water Bottle",
        "outdoor",
        2900,
        "Double-wall steel keeps drinks cold for 24 hours, hot for 12.",
        ["bottle", "steel", "hydration"],
        "BOTTLE",
        [{"volume": "500ml"}, {"volume": "750ml"}, {"volume": "1l"}],
    ),
    _product(
        "Camping Hammock",
        "outdoor",
        6900,
        "Parachute nylon hammock with tree straps, packs to the size of a grapefruit.",
        ["hammock", "camping", "nylon"],
        "HAMMOCK",
        [{"colour": "orange"}, {"colour": "grey"}],
    ),
    _product(
        "Headlamp 400",
        "outdoor",
        3900,
        "A 400 lumen rechargeable headlamp with a red night mode.",
        ["headlamp", "light", "camping"],
        "HEADLAMP",
        [{"colour": "black"}],
    ),
    _product(
        "Merino Hiking Socks",
        "outdoor",
        2400,
        "Cushioned merino hiking socks that stay fresh for days.",
        ["socks", "merino", "hiking"],
        "HIKESOCK",
        [{"size": "39-42"}, {"size": "43-46"}],
    ),
    _product(
        "Enamel Camp Mug",
        "outdoor",
        1400,
        "A classic enamel mug for the trail and the campfire.",
        ["mug", "enamel", "camping"],
        "CAMPMUG",
        [{"colour": "white"}, {"colour": "green"}],
    ),
    # ------------------------------------------------------------------ stationery
    _product(
        "Dot Grid Notebook",
        "stationery",
        1900,
        "A5 notebook with 160 pages of 100 gsm fountain-pen-friendly paper.",
        ["notebook", "paper", "dot-grid"],
        "NOTEBOOK",
        [{"colour": "black"}, {"colour": "terracotta"}, {"colour": "sage"}],
    ),
    _product(
        "Brass Fountain Pen",
        "stationery",
        6500,
        "A solid brass fountain pen that patinates with use; fine steel nib.",
        ["pen", "brass", "fountain-pen"],
        "PEN",
        [{"nib": "F"}, {"nib": "M"}],
    ),
    _product(
        "Weekly Desk Planner",
        "stationery",
        2400,
        "An undated weekly planner pad with tear-off sheets.",
        ["planner", "paper", "desk"],
        "PLANNER",
        [{"format": "A4"}, {"format": "A5"}],
    ),
    _product(
        "Leather Pencil Case",
        "stationery",
        3200,
        "Vegetable-tanned leather roll for pens, pencils and a ruler.",
        ["leather", "pencil-case", "gift"],
        "PENCILCASE",
        [{"colour": "tan"}, {"colour": "brown"}],
    ),
    _product(
        "Watercolour Set",
        "stationery",
        4800,
        "Twelve artist-grade half pans in a tin with a travel brush.",
        ["watercolour", "paint", "art"],
        "WATERCOLOUR",
        [{"pans": "12"}, {"pans": "24"}],
    ),
    # 11.90 € incl. 19 %: two to DE with Standard shipping are issue 13's worked example (28.70 €, tax 4.58 €).
    _product(
        "Pocket Sketchbook",
        "stationery",
        1190,
        "A6 sketchbook with 80 pages of 150 gsm paper and a stitched spine.",
        ["sketchbook", "paper", "art"],
        "SKETCHBOOK",
        [{"colour": "black"}],
    ),
    # ------------------------------------------------------------------ books (7 % in DE)
    _product(
        "The Slow Kitchen",
        "books",
        2400,
        "A cookbook of one-pot dishes for the cast-iron skillet, with 80 recipes.",
        ["cookbook", "book", "recipes"],
        "COOKBOOK",
        [{"format": "hardcover"}],
    ),
]


# ------------------------------------------------------------------ purchase history
# Paid orders of the demo customers, placed through the real API and paid as a browser would, so that
# "bought together" suggestions have something to show: the skillet goes with the cutting board twice,
# with the knife and the tea towels once; the pour-over set with mugs twice.
DEMO_ORDERS: list[tuple[str, list[tuple[str, int]]]] = [
    ("alice@example.com", [("SKILLET-26CM", 1), ("KNIFE-20CM", 1), ("BOARD-L", 1)]),
    ("alice@example.com", [("POUROVER-WHITE", 1), ("MUG-SPECKLED", 2)]),
    ("alice@example.com", [("NOTEBOOK-BLACK", 1), ("PEN-F", 1)]),
    ("bob@example.com", [("SKILLET-30CM", 1), ("BOARD-S", 1), ("TOWEL-NATURAL", 2)]),
    ("bob@example.com", [("POUROVER-BLACK", 1), ("MUG-INK", 2)]),
    ("bob@example.com", [("DAYPACK-MOSS", 1), ("BOTTLE-750ML", 1)]),
]
DEMO_PROFILES: dict[str, dict[str, object]] = {
    "alice@example.com": {"name": "Alice Liddell", "marketingConsent": False},
    "bob@example.com": {"name": "Bob Example", "marketingConsent": False},
}
"""`PUT /me` bodies of the demo customers: support finds them by name or email (`GET /admin/customers?q=ali`)."""

DEMO_STOCK = 50
"""Units of every demo SKU put on the shelf at start."""

DEMO_ADDRESS = {
    "name": "Demo Customer",
    "line1": "1 Harbour Street",
    "city": "Hamburg",
    "postalCode": "20457",
    "country": "DE",
}

DEMO_TAX_RATES: dict[str, dict[str, object]] = {
    "DE": {"standard": "19", "categories": {"books": "7"}},
    "AT": {"standard": "20"},
    "FR": {"standard": "20"},
}
"""`PUT /tax-rates/{country}` bodies (issue 13): catalog prices include tax (`PricesIncludeTax`)."""

_REST_OF_EU = [
    *("BE", "BG", "CY", "CZ", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT"),
    *("LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"),
]
DEMO_SHIPPING_METHODS: list[dict[str, object]] = [
    {
        "name": "Standard",
        "countries": ["DE", "AT"],
        "price": {"amount": 490, "currency": "EUR"},
        "freeOver": {"amount": 5000, "currency": "EUR"},
        "minDays": 2,
        "maxDays": 4,
    },
    {"name": "Express", "countries": ["DE"], "price": {"amount": 990, "currency": "EUR"}, "minDays": 1, "maxDays": 1},
    {
        "name": "International",
        "countries": _REST_OF_EU,
        "price": {"amount": 1490, "currency": "EUR"},
        "minDays": 3,
        "maxDays": 7,
    },
]
"""`POST /shipping-methods` bodies: Standard for DE/AT (free over 50 €), Express for DE, International
for the rest of the EU."""
