/**
 * `#/products`: the catalog as staff manage it — list and search, create with variants, edit, archive.
 *
 * The API lists only ACTIVE products (`GET /products` is the public catalog; an archived product
 * is gone from it and from `GET /products/{id}`), so archiving is final from here. Edits send
 * `If-Match` with the ETag of the copy the form was filled from: two staff editing the same product
 * get a 412 instead of one silently overwriting the other.
 */
import { useState } from "preact/hooks";
import { ApiError, call, type Schema } from "../../shared/api";
import { ErrorNote, Loading, money, navigate, useLoad } from "../../shared/ui";
import type { PageProps } from "./page";
import { formatMinor, parseMinor, useIdempotencyKey } from "./util";

type ProductOut = Schema["/products/{productId}"]["get"]["responses"][200]["content"]["application/json"];
type ProductIn = Schema["/products"]["post"]["requestBody"]["content"]["application/json"];
type ProductSummary = Schema["/products"]["get"]["responses"][200]["content"]["application/json"]["items"][number];

interface VariantDraft {
  sku: string;
  attributes: string;
  price: string;
}

interface Draft {
  name: string;
  description: string;
  category: string;
  tags: string;
  price: string;
  currency: string;
  images: string;
  variants: VariantDraft[];
}

const EMPTY: Draft = {
  name: "",
  description: "",
  category: "",
  tags: "",
  price: "",
  currency: "EUR",
  images: "",
  variants: [{ sku: "", attributes: "", price: "" }],
};

function draftOf(product: ProductOut): Draft {
  return {
    name: product.name,
    description: product.description,
    category: product.category,
    tags: product.tags.join(", "),
    price: formatMinor(product.price.amount),
    currency: product.price.currency,
    images: product.images.join("\n"),
    variants: product.variants.map((v) => ({
      sku: v.sku,
      attributes: Object.entries(v.attributes)
        .map(([k, val]) => `${k}=${val}`)
        .join(", "),
      price: v.price.amount === product.price.amount ? "" : formatMinor(v.price.amount),
    })),
  };
}

/** `size=M, colour=red` → `{size: "M", colour: "red"}`; throws on a pair without `=`. */
function parseAttributes(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of text.split(",").map((p) => p.trim()).filter(Boolean)) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new Error(`Attribute "${pair}" needs the form name=value`);
    out[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return out;
}

/** The draft as the API's ProductIn; throws a readable Error for what the form can check itself. */
function bodyOf(draft: Draft): ProductIn {
  const price = parseMinor(draft.price);
  if (price === null) throw new Error("Price must be an amount like 12.50");
  const currency = draft.currency.trim().toUpperCase();
  return {
    name: draft.name.trim(),
    description: draft.description.trim(),
    category: draft.category.trim(),
    tags: draft.tags
      .split(",")
      .map((t) => t.trim())
      .filter(Boolean),
    price: { amount: price, currency },
    images: draft.images
      .split("\n")
      .map((i) => i.trim())
      .filter(Boolean),
    variants: draft.variants.map((v) => {
      const own = v.price.trim() === "" ? null : parseMinor(v.price);
      if (v.price.trim() !== "" && own === null) throw new Error(`Price of ${v.sku || "a variant"} must be an amount`);
      return {
        sku: v.sku.trim().toUpperCase(),
        attributes: parseAttributes(v.attributes),
        price: own === null ? null : { amount: own, currency },
      };
    }),
  };
}

function ProductForm({
  initial,
  submitLabel,
  onSubmit,
  onCancel,
}: {
  initial: Draft;
  submitLabel: string;
  onSubmit: (body: ProductIn) => Promise<void>;
  onCancel: () => void;
}) {
  const [draft, setDraft] = useState<Draft>(initial);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const set = (patch: Partial<Draft>): void => setDraft((d) => ({ ...d, ...patch }));
  const setVariant = (index: number, patch: Partial<VariantDraft>): void =>
    setDraft((d) => ({ ...d, variants: d.variants.map((v, i) => (i === index ? { ...v, ...patch } : v)) }));

  async function submit(event: Event): Promise<void> {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      await onSubmit(bodyOf(draft));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="card" onSubmit={submit} data-testid="product-form">
      <label>
        Name
        <input required maxLength={200} value={draft.name} onInput={(e) => set({ name: e.currentTarget.value })} data-testid="product-name" />
      </label>
      <label>
        Description
        <textarea
          required
          maxLength={5000}
          value={draft.description}
          onInput={(e) => set({ description: e.currentTarget.value })}
          data-testid="product-description"
        />
      </label>
      <label>
        Category
        <input required maxLength={80} value={draft.category} onInput={(e) => set({ category: e.currentTarget.value })} data-testid="product-category" />
      </label>
      <label>
        Tags (comma-separated)
        <input value={draft.tags} onInput={(e) => set({ tags: e.currentTarget.value })} data-testid="product-tags" />
      </label>
      <div class="row">
        <label>
          Price
          <input required inputMode="decimal" value={draft.price} onInput={(e) => set({ price: e.currentTarget.value })} data-testid="product-price" />
        </label>
        <label>
          Currency
          <input required maxLength={3} size={4} value={draft.currency} onInput={(e) => set({ currency: e.currentTarget.value })} data-testid="product-currency" />
        </label>
      </div>
      <label>
        Image URLs (one a line)
        <textarea value={draft.images} onInput={(e) => set({ images: e.currentTarget.value })} data-testid="product-images" />
      </label>
      <fieldset data-testid="variants">
        <legend>Variants</legend>
        {draft.variants.map((v, i) => (
          <div class="row" key={i} data-testid={`variant-${i}`}>
            <label>
              SKU
              <input required value={v.sku} onInput={(e) => setVariant(i, { sku: e.currentTarget.value })} data-testid={`variant-sku-${i}`} />
            </label>
            <label>
              Attributes (name=value, …)
              <input value={v.attributes} onInput={(e) => setVariant(i, { attributes: e.currentTarget.value })} data-testid={`variant-attributes-${i}`} />
            </label>
            <label>
              Own price (blank: the product's)
              <input inputMode="decimal" value={v.price} onInput={(e) => setVariant(i, { price: e.currentTarget.value })} data-testid={`variant-price-${i}`} />
            </label>
            <button
              type="button"
              disabled={draft.variants.length === 1}
              onClick={() => setDraft((d) => ({ ...d, variants: d.variants.filter((_, j) => j !== i) }))}
              data-testid={`variant-remove-${i}`}
            >
              Remove
            </button>
          </div>
        ))}
        <button
          type="button"
          onClick={() => setDraft((d) => ({ ...d, variants: [...d.variants, { sku: "", attributes: "", price: "" }] }))}
          data-testid="variant-add"
        >
          Add variant
        </button>
      </fieldset>
      <div class="row">
        <button type="submit" disabled={busy} data-testid="product-save">
          {submitLabel}
        </button>
        <button type="button" class="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
      <ErrorNote error={error} />
    </form>
  );
}

function CreateProduct({ api, onDone }: { api: PageProps["api"]; onDone: () => void }) {
  const idem = useIdempotencyKey();
  async function create(body: ProductIn): Promise<void> {
    const created = await call(api.POST("/products", { params: { header: { "Idempotency-Key": idem.keyFor(body) } }, body }));
    idem.done();
    navigate(`/products/${encodeURIComponent(created.productId)}`);
    onDone();
  }
  return (
    <section>
      <h1>New product</h1>
      <ProductForm initial={EMPTY} submitLabel="Create product" onSubmit={create} onCancel={onDone} />
    </section>
  );
}

function EditProduct({ api, productId }: { api: PageProps["api"]; productId: string }) {
  // The ETag travels with the copy the form was filled from; a reload refreshes both.
  const loaded = useLoad(async () => {
    const answer = await api.GET("/products/{productId}", { params: { path: { productId } }, cache: "no-store" });
    const product = await call(Promise.resolve(answer));
    return { product, etag: answer.response.headers.get("ETag") };
  }, [productId]);
  const [saved, setSaved] = useState<string | null>(null);
  const [stale, setStale] = useState(false);
  const [archiveArmed, setArchiveArmed] = useState(false);
  const [archiveError, setArchiveError] = useState<unknown>(null);

  if (loaded.loading && loaded.data === undefined) return <Loading />;
  if (loaded.data === undefined) {
    return (
      <section>
        <ErrorNote error={loaded.error} />
        <a href="#/products">Back to products</a>
      </section>
    );
  }
  const { product, etag } = loaded.data;

  async function save(body: ProductIn): Promise<void> {
    setStale(false);
    try {
      const updated = await call(
        api.PUT("/products/{productId}", { params: { path: { productId }, header: { "If-Match": etag ?? undefined } }, body }),
      );
      setSaved(`Saved version ${updated.version}.`);
      loaded.reload();
    } catch (e) {
      // Someone saved in between: never overwrite their edit; offer their version to start again from.
      if (e instanceof ApiError && e.status === 412) setStale(true);
      throw e;
    }
  }

  async function archive(): Promise<void> {
    setArchiveError(null);
    try {
      await call(api.DELETE("/products/{productId}", { params: { path: { productId } } }));
      navigate("/products");
    } catch (e) {
      setArchiveError(e);
    }
  }

  return (
    <section data-testid="product-edit">
      <p>
        <a href="#/products">← Products</a>
      </p>
      <h1 data-testid="product-title">{product.name}</h1>
      <p>
        <code>{product.productId}</code> · {product.status} · version {product.version}
      </p>
      {saved && (
        <p role="status" data-testid="product-saved">
          {saved}
        </p>
      )}
      {stale && (
        <p class="error" role="alert" data-testid="product-stale">
          Someone changed this product after you opened it; your changes were not saved.{" "}
          <button
            type="button"
            onClick={() => {
              setStale(false);
              loaded.reload();
            }}
            data-testid="product-reload"
          >
            Load their version
          </button>
        </p>
      )}
      {/* keyed by version so a reload after a save or a 412 refills the form */}
      <ProductForm key={product.version} initial={draftOf(product)} submitLabel="Save changes" onSubmit={save} onCancel={() => navigate("/products")} />
      <h2>Variants in stock</h2>
      <ul>
        {product.variants.map((v) => (
          <li key={v.sku}>
            <a href={`#/stock/${encodeURIComponent(v.sku)}`}>{v.sku}</a> — {money(v.price)}
            {typeof v.available === "number" ? `, ${v.available} available` : ""}
          </li>
        ))}
      </ul>
      <div class="card">
        {archiveArmed ? (
          <>
            <span>Archive {product.name}? It leaves the shop for good.</span>{" "}
            <button type="button" class="danger" onClick={() => void archive()} data-testid="product-archive-confirm">
              Yes, archive
            </button>{" "}
            <button type="button" onClick={() => setArchiveArmed(false)}>
              Keep it
            </button>
          </>
        ) : (
          <button type="button" class="danger" onClick={() => setArchiveArmed(true)} data-testid="product-archive">
            Archive product
          </button>
        )}
        <ErrorNote error={archiveError} />
      </div>
    </section>
  );
}

function ProductList({ api }: { api: PageProps["api"] }) {
  const [q, setQ] = useState("");
  const [search, setSearch] = useState("");
  const [creating, setCreating] = useState(false);
  const [pages, setPages] = useState<(string | null)[]>([null]);
  const cursor = pages[pages.length - 1] ?? null;
  const loaded = useLoad(
    () => call(api.GET("/products", { params: { query: { q: search || undefined, cursor: cursor ?? undefined, limit: 50 } } })),
    [search, cursor],
  );

  if (creating) return <CreateProduct api={api} onDone={() => setCreating(false)} />;

  const items: ProductSummary[] = loaded.data?.items ?? [];
  return (
    <section>
      <div class="row">
        <h1>Products</h1>
        <button type="button" onClick={() => setCreating(true)} data-testid="product-new">
          New product
        </button>
      </div>
      <form
        class="row"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setPages([null]);
          setSearch(q.trim());
        }}
      >
        <label>
          Search
          <input type="search" value={q} onInput={(e) => setQ(e.currentTarget.value)} data-testid="product-search" />
        </label>
        <button type="submit">Search</button>
      </form>
      <ErrorNote error={loaded.error} />
      {loaded.loading ? (
        <Loading />
      ) : (
        <table data-testid="product-list">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Category</th>
              <th scope="col">Price</th>
              <th scope="col">Id</th>
            </tr>
          </thead>
          <tbody>
            {items.map((p) => (
              <tr key={p.productId} data-testid={`product-row-${p.productId}`}>
                <td>
                  <a href={`#/products/${encodeURIComponent(p.productId)}`}>{p.name}</a>
                </td>
                <td>{p.category}</td>
                <td>{p.minPrice.amount === p.maxPrice.amount ? money(p.minPrice) : `${money(p.minPrice)} – ${money(p.maxPrice)}`}</td>
                <td>
                  <code>{p.productId}</code>
                </td>
              </tr>
            ))}
            {items.length === 0 && (
              <tr>
                <td colSpan={4}>No products.</td>
              </tr>
            )}
          </tbody>
        </table>
      )}
      <div class="row">
        <button type="button" disabled={pages.length === 1} onClick={() => setPages((p) => p.slice(0, -1))}>
          Previous
        </button>
        <button
          type="button"
          disabled={!loaded.data?.nextCursor}
          onClick={() => setPages((p) => [...p, loaded.data?.nextCursor ?? null])}
          data-testid="product-next"
        >
          Next
        </button>
      </div>
    </section>
  );
}

export function ProductsPage({ api, params }: PageProps) {
  const productId = params[0];
  return productId ? <EditProduct api={api} productId={productId} /> : <ProductList api={api} />;
}
