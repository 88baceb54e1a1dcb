/**
 * Catalog `#/`: categories, search, a price filter and sort over `GET /products`, paged by cursor.
 *
 * The filters live in the hash's query (`#/?q=mug&category=kitchen&max=30`), so a search is a link that
 * can be shared, survives a reload and works with the browser's back button.
 */
import { useEffect, useState } from "preact/hooks";

import { call } from "../../shared/api";
import type { Schema } from "../../shared/api";
import { ErrorNote, hashQuery, Link, Loading, money, navigate, useLoad } from "../../shared/ui";
import { useApp } from "../app";

type ProductSummary = Schema["/products"]["get"]["responses"][200]["content"]["application/json"]["items"][number];
type Sort = "name" | "price" | "-price" | "newest";

interface Filters {
  q: string;
  category: string;
  min: string;
  max: string;
  sort: Sort | "";
}

const SORTS: { value: Sort | ""; label: string }[] = [
  { value: "", label: "Best match / name" },
  { value: "price", label: "Price, low to high" },
  { value: "-price", label: "Price, high to low" },
  { value: "newest", label: "Newest" },
];

function readFilters(): Filters {
  const query = hashQuery();
  const sort = query.get("sort") ?? "";
  return {
    q: query.get("q") ?? "",
    category: query.get("category") ?? "",
    min: query.get("min") ?? "",
    max: query.get("max") ?? "",
    sort: SORTS.some((s) => s.value === sort) ? (sort as Sort | "") : "",
  };
}

function writeFilters(f: Filters): void {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(f) as [keyof Filters, string][]) {
    if (value.trim()) query.set(key, value.trim());
  }
  const text = query.toString();
  navigate(text ? `/?${text}` : "/");
}

/** A price typed in major units ("12.50") as minor units, or undefined when empty or not a number. */
function minor(text: string): number | undefined {
  const value = Number(text.replace(",", "."));
  return text.trim() && Number.isFinite(value) && value >= 0 ? Math.round(value * 100) : undefined;
}

function useFilters(): Filters {
  const [filters, setFilters] = useState<Filters>(readFilters);
  useEffect(() => {
    const update = (): void => setFilters(readFilters());
    window.addEventListener("hashchange", update);
    return () => window.removeEventListener("hashchange", update);
  }, []);
  return filters;
}

export function ProductCard({ product }: { product: ProductSummary }) {
  const range =
    product.minPrice.amount === product.maxPrice.amount
      ? money(product.minPrice)
      : `${money(product.minPrice)} – ${money(product.maxPrice)}`;
  return (
    <li class="card" data-testid="product-card" data-product-id={product.productId}>
      <Link to={`/products/${encodeURIComponent(product.productId)}`} data-testid="product-link">
        {product.image ? <img src={product.image} alt="" loading="lazy" width={160} height={160} /> : null}
        <span class="card-name">{product.name}</span>
      </Link>
      <span class="card-category">{product.category}</span>
      <span class="price" data-testid="product-price">
        {range}
      </span>
    </li>
  );
}

function Categories({ active }: { active: string }) {
  const { api } = useApp();
  const categories = useLoad(() => call(api.GET("/categories", { params: { query: { limit: 100 } } })), [api]);
  if (categories.error) return <ErrorNote error={categories.error} />;
  if (!categories.data) return null;
  const pick = (slug: string): void => writeFilters({ ...readFilters(), category: slug });
  return (
    <nav aria-label="Categories" class="categories">
      <ul>
        <li>
          <button type="button" class="secondary" aria-pressed={active === ""} onClick={() => pick("")} data-testid="category-all">
            All
          </button>
        </li>
        {categories.data.items.map((c) => (
          <li key={c.slug}>
            <button
              type="button"
              class="secondary"
              aria-pressed={active === c.slug}
              onClick={() => pick(c.slug)}
              data-testid={`category-${c.slug}`}
            >
              {c.name} <small>({c.productCount})</small>
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}

function FilterForm({ filters }: { filters: Filters }) {
  const [min, setMin] = useState(filters.min);
  const [max, setMax] = useState(filters.max);
  useEffect(() => {
    setMin(filters.min);
    setMax(filters.max);
  }, [filters.min, filters.max]);
  const apply = (e: Event): void => {
    e.preventDefault();
    writeFilters({ ...filters, min, max });
  };
  return (
    <form class="filters" onSubmit={apply} aria-label="Filter products">
      <label>
        Min price
        <input type="number" min="0" step="0.01" inputMode="decimal" value={min} onInput={(e) => setMin(e.currentTarget.value)} data-testid="filter-min" />
      </label>
      <label>
        Max price
        <input type="number" min="0" step="0.01" inputMode="decimal" value={max} onInput={(e) => setMax(e.currentTarget.value)} data-testid="filter-max" />
      </label>
      <button type="submit" data-testid="filter-apply">
        Apply
      </button>
      <label>
        Sort by
        <select
          value={filters.sort}
          onChange={(e) => writeFilters({ ...filters, sort: e.currentTarget.value as Sort | "" })}
          data-testid="sort"
        >
          {SORTS.map((s) => (
            <option key={s.value} value={s.value}>
              {s.label}
            </option>
          ))}
        </select>
      </label>
    </form>
  );
}

export function CatalogPage() {
  const { api } = useApp();
  const filters = useFilters();
  const [items, setItems] = useState<ProductSummary[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [more, setMore] = useState<{ loading: boolean; error: unknown }>({ loading: false, error: null });
  const key = JSON.stringify(filters);

  const query = (after: string | null) => ({
    q: filters.q || undefined,
    category: filters.category || undefined,
    minPrice: minor(filters.min),
    maxPrice: minor(filters.max),
    sort: filters.sort || undefined,
    limit: 24,
    cursor: after ?? undefined,
  });

  const first = useLoad(() => call(api.GET("/products", { params: { query: query(null) } })), [api, key]);
  useEffect(() => {
    setItems(first.data?.items ?? []);
    setCursor(first.data?.nextCursor ?? null);
  }, [first.data]);

  const loadMore = async (): Promise<void> => {
    setMore({ loading: true, error: null });
    try {
      const page = await call(api.GET("/products", { params: { query: query(cursor) } }));
      setItems((old) => [...old, ...page.items]);
      setCursor(page.nextCursor ?? null);
      setMore({ loading: false, error: null });
    } catch (error) {
      setMore({ loading: false, error });
    }
  };

  const heading = filters.q ? `Results for “${filters.q}”` : "All products";
  return (
    <div class="catalog">
      <aside>
        <Categories active={filters.category} />
      </aside>
      <section aria-labelledby="catalog-heading">
        <h1 id="catalog-heading">{heading}</h1>
        <FilterForm filters={filters} />
        <ErrorNote error={first.error} />
        {first.loading && !first.data ? <Loading /> : null}
        {first.data && items.length === 0 ? (
          <p data-testid="no-results">No product matches. Try fewer words or another category.</p>
        ) : null}
        <ul class="grid" data-testid="product-list" aria-busy={first.loading}>
          {items.map((p) => (
            <ProductCard key={p.productId} product={p} />
          ))}
        </ul>
        <ErrorNote error={more.error} />
        {cursor ? (
          <button type="button" onClick={() => void loadMore()} disabled={more.loading} data-testid="load-more">
            {more.loading ? "Loading…" : "More products"}
          </button>
        ) : null}
      </section>
    </div>
  );
}
