/**
 * Product `#/products/:id`: the variants with their price and availability (the public detail says
 * `inStock`, and `available` when few are left), add to cart, and "bought together" suggestions.
 */
import { useState } from "preact/hooks";

import { call } from "../../shared/api";
import type { Schema } from "../../shared/api";
import { ErrorNote, Link, Loading, money, useLoad } from "../../shared/ui";
import { type PageProps, useApp } from "../app";
import { addToCart, MAX_QUANTITY } from "./cart";

type Product = Schema["/products/{productId}"]["get"]["responses"][200]["content"]["application/json"];
type Variant = Product["variants"][number];

function label(variant: Variant): string {
  const parts = Object.entries(variant.attributes).map(([k, v]) => `${k}: ${v}`);
  return parts.length ? parts.join(", ") : variant.sku;
}

/** What the shopper may expect: `inStock` null means the level could not be read, so say nothing. */
export function Availability({ variant }: { variant: Variant }) {
  if (variant.inStock === false) return <span class="sold-out" data-testid="availability">Sold out</span>;
  if (variant.inStock !== true) return null;
  return (
    <span class="in-stock" data-testid="availability">
      {typeof variant.available === "number" ? `Only ${variant.available} left` : "In stock"}
    </span>
  );
}

function BoughtTogether({ productId }: { productId: string }) {
  const { api } = useApp();
  const recs = useLoad(
    () => call(api.GET("/products/{productId}/recommendations", { params: { path: { productId }, query: { limit: 4 } } })),
    [api, productId],
  );
  // Suggestions are a bonus: a failure hides the box rather than alarming the shopper.
  if (recs.error || !recs.data || recs.data.items.length === 0) return null;
  const together = recs.data.items.some((r) => r.reason === "bought_together");
  return (
    <section aria-labelledby="recs-heading" data-testid="recommendations">
      <h2 id="recs-heading">{together ? "Bought together" : "Popular now"}</h2>
      <ul class="grid">
        {recs.data.items.map((r) => (
          <li key={r.productId} class="card" data-testid="recommendation">
            <Link to={`/products/${encodeURIComponent(r.productId)}`}>{r.name}</Link>
            {r.category ? <span class="card-category">{r.category}</span> : null}
          </li>
        ))}
      </ul>
    </section>
  );
}

export function ProductPage({ params }: PageProps) {
  const { api } = useApp();
  const productId = params[0] ?? "";
  const product = useLoad(() => call(api.GET("/products/{productId}", { params: { path: { productId } } })), [api, productId]);
  const [sku, setSku] = useState<string | null>(null);
  const [quantity, setQuantity] = useState(1);
  const [added, setAdded] = useState<string | null>(null);

  if (product.error) return <ErrorNote error={product.error} />;
  if (!product.data) return <Loading />;
  const p = product.data;
  const orderable = p.variants.filter((v) => v.inStock !== false);
  const chosen = p.variants.find((v) => v.sku === sku) ?? orderable[0] ?? p.variants[0];

  const add = (e: Event): void => {
    e.preventDefault();
    if (!chosen) return;
    addToCart({ sku: chosen.sku, productId: p.productId, name: p.variants.length > 1 ? `${p.name} (${label(chosen)})` : p.name, quantity });
    setAdded(chosen.sku);
  };

  return (
    <article class="product" data-testid="product" data-product-id={p.productId}>
      <p>
        <Link to={`/?category=${encodeURIComponent(p.categorySlug)}`}>{p.category}</Link>
      </p>
      <h1 data-testid="product-name">{p.name}</h1>
      {p.images[0] ? <img src={p.images[0]} alt={p.name} width={320} height={320} /> : null}
      <p>{p.description}</p>
      <form onSubmit={add} aria-label="Add to cart">
        <fieldset>
          <legend>Variant</legend>
          {p.variants.map((v) => (
            <label key={v.sku} class="variant" data-testid="variant" data-sku={v.sku}>
              <input
                type="radio"
                name="variant"
                value={v.sku}
                checked={chosen?.sku === v.sku}
                disabled={v.inStock === false}
                onChange={() => {
                  setSku(v.sku);
                  setAdded(null);
                }}
              />
              {label(v)} — <span class="price">{money(v.price)}</span> <Availability variant={v} />
            </label>
          ))}
        </fieldset>
        <label>
          Quantity
          <input
            type="number"
            min={1}
            max={Math.min(MAX_QUANTITY, chosen?.available ?? MAX_QUANTITY)}
            value={quantity}
            onInput={(e) => setQuantity(Math.max(1, Math.floor(Number(e.currentTarget.value) || 1)))}
            data-testid="quantity"
          />
        </label>
        <button type="submit" disabled={!chosen || chosen.inStock === false} data-testid="add-to-cart">
          Add to cart
        </button>
      </form>
      {added ? (
        <p role="status" data-testid="added">
          Added to your cart. <Link to="/cart" data-testid="go-to-cart">View cart</Link>
        </p>
      ) : null}
      <BoughtTogether productId={p.productId} />
    </article>
  );
}
