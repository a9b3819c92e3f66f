"""GraphiQL on `GET /graphql`, with every script and style served by the app itself.

Strawberry's own page loads React and GraphiQL from unpkg.com; investigators often work on
networks that reach no CDN (DESIGN.md §8). `./dev setup` installs the npm packages under
`ui/vendor/node_modules`; this module serves the four files the page needs from there, and only
those, at `/static/vendor/…`.
"""

from __future__ import annotations

import json
from pathlib import Path

from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response

VENDOR_URL = "/static/vendor"
#: The files under `ui/vendor/node_modules` the page loads; nothing else there is served.
VENDOR_FILES = (
    "react/umd/react.production.min.js",
    "react-dom/umd/react-dom.production.min.js",
    "graphiql/graphiql.min.js",
    "graphiql/graphiql.min.css",
)

EXAMPLE_QUERY = """# gracegraph GraphQL: press the play button (or Ctrl-Enter) to run.
# The Docs panel (book icon) lists every field; errors carry extensions.code.
query Example {
  search(text: "example", limit: 5) {
    score
    matched
    entity { id kind label sources }
  }
}
"""

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>gracegraph · GraphiQL</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="{vendor}/graphiql/graphiql.min.css">
  <style>body {{ margin: 0; }} #graphiql {{ height: 100vh; }}</style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script src="{vendor}/react/umd/react.production.min.js"></script>
  <script src="{vendor}/react-dom/umd/react-dom.production.min.js"></script>
  <script src="{vendor}/graphiql/graphiql.min.js"></script>
  <script>
    const fetcher = GraphiQL.createFetcher({{ url: window.location.pathname }});
    const root = ReactDOM.createRoot(document.getElementById("graphiql"));
    root.render(React.createElement(GraphiQL, {{ fetcher: fetcher, defaultQuery: {example} }}));
  </script>
</body>
</html>
"""


def missing_files(vendor: Path) -> list[str]:
    return [name for name in VENDOR_FILES if not (vendor / name).is_file()]


def page(vendor: Path) -> Response:
    """The GraphiQL page, or a plain-text note saying how to install it when its files are absent."""
    if missing := missing_files(vendor):
        return PlainTextResponse(
            f"GraphiQL is not installed ({', '.join(missing)} missing under {vendor}): run ./dev setup. "
            "The API itself answers POST /graphql without it.\n", status_code=503)
    return HTMLResponse(PAGE.format(vendor=VENDOR_URL, example=json.dumps(EXAMPLE_QUERY).replace("</", "<\\/")))


def vendor_file(vendor: Path, name: str) -> Response:
    if name not in VENDOR_FILES or not (vendor / name).is_file():
        return PlainTextResponse("not found\n", status_code=404)
    return FileResponse(vendor / name)
