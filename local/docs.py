"""Swagger UI for the local stack at `/docs`, over the committed `docs/openapi.json`, with no external
assets: the page, script and style come from the copy of Swagger UI that Powertools ships inside its
package. Local only: the deployed API serves no docs (the document is in the repository)."""

from __future__ import annotations

from functools import cached_property
from html import escape
from pathlib import Path

from aws_lambda_powertools.event_handler.openapi import swagger_ui
from werkzeug.wrappers import Response

ASSETS = Path(swagger_ui.__file__).parent
PREFIX = "/docs"

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Storekeeper API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui.js"></script>
  <script>
    window.ui = SwaggerUIBundle({
      url: "/docs/openapi.json",
      dom_id: "#swagger-ui",
      deepLinking: true,
      filter: true,
      docExpansion: "list",
      persistAuthorization: true,
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
    });
  </script>
</body>
</html>
"""


_HOME = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Storekeeper API (local)</title></head>
<body>
<main>
  <h1>Storekeeper API</h1>
  <p>This is the shop's API, for programs. People want one of these:</p>
  <ul>
    {web}<li><a href="/docs">API documentation</a> (try every route from the browser)</li>
  </ul>
</main>
</body>
</html>
"""


def home_page(web_url: str | None) -> str:
    """The API root's page: links to the shop, the console (when the stack serves them) and `/docs`."""
    web = ""
    if web_url:
        web = (
            f'<li><a href="{escape(web_url)}/">The shop</a></li>\n    '
            f'<li><a href="{escape(web_url)}/admin/">The admin console</a></li>\n    '
        )
    return _HOME.replace("{web}", web)


class SwaggerDocs:
    """Answers `GET /docs`, `/docs/openapi.json`, `/docs/swagger-ui.js` and `/docs/swagger-ui.css`,
    and `GET /` with a page pointing at the shop, the console and the docs (a person who opens the
    API's address in a browser gets somewhere, not a 404); anything else is not its business (None).
    The document is read per request, so a `make openapi` shows without a restart. "Try it out"
    calls this same origin, so no CORS is involved. Local only, like the docs (docs/decisions.md)."""

    def __init__(self, openapi: Path, web_url: str | None = None) -> None:
        self.openapi = openapi
        self.web_url = web_url

    @cached_property
    def _assets(self) -> dict[str, tuple[Path, str]]:
        return {
            f"{PREFIX}/swagger-ui.js": (ASSETS / "swagger-ui-bundle.min.js", "text/javascript; charset=utf-8"),
            f"{PREFIX}/swagger-ui.css": (ASSETS / "swagger-ui.min.css", "text/css; charset=utf-8"),
        }

    def answer(self, method: str, path: str) -> Response | None:
        if path == "/" and method in ("GET", "HEAD"):
            return Response(home_page(self.web_url), content_type="text/html; charset=utf-8")
        if path != PREFIX and not path.startswith(PREFIX + "/"):
            return None
        if method not in ("GET", "HEAD"):
            return None
        if path in (PREFIX, PREFIX + "/"):
            return Response(_PAGE, content_type="text/html; charset=utf-8")
        if path == f"{PREFIX}/openapi.json":
            if not self.openapi.is_file():
                return Response('{"message": "run make openapi"}', status=404, content_type="application/json")
            return Response(self.openapi.read_bytes(), content_type="application/json")
        asset = self._assets.get(path)
        if asset is None:
            return None
        file, content_type = asset
        return Response(file.read_bytes(), content_type=content_type, headers={"Cache-Control": "max-age=3600"})
