// One build, two apps (Vite multi-page): the storefront at ./index.html and the console at
// ./admin/index.html. `base: "./"` makes every asset path relative, so the same dist/ runs at `/`
// (local stack, CloudFront) and under any prefix. config.json is not part of the build: the host
// writes it beside the files (docs/decisions.md).
import { defineConfig } from "vite";

const page = (path: string): string => decodeURIComponent(new URL(path, import.meta.url).pathname);

export default defineConfig({
  base: "./",
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  resolve: {
    alias: { react: "preact/compat", "react-dom": "preact/compat" },
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    rollupOptions: {
      input: { store: page("./index.html"), admin: page("./admin/index.html") },
    },
  },
  // `npm run dev` against `make run`: the pages reload as you edit, config.json comes from the running
  // stack's web server (its API allows this origin too: AllowedOrigins' default names :5173).
  server: {
    host: "127.0.0.1",
    port: 5173,
    strictPort: true,
    proxy: { "/config.json": `http://127.0.0.1:${process.env.LOCAL_WEB_PORT ?? "8080"}` },
  },
});
