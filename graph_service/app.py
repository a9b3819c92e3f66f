"""The web service: the GraphQL API, GraphiQL, the viewer's files and a health check, in one app.

Routes:

- `POST /graphql`: the API, bearer token required (GraphiQL on `GET /graphql`, its assets under
  `/static/vendor/`);
- `POST /federation/{hello,blind,match}`: other gracegraph instances, by signed call
  (graph_service/federation/, docs/federation.md); no user token opens them;
- `GET /healthz`: 200 `{"status": "ok", "neo4j": "ok"}` when Neo4j answers, else 503;
- `GET /review`: the entity-resolution review queue (`ui/static/review.html`);
- `GET /`: the viewer (`ui/static/index.html`), its files under `/static/`, and vis-network from
  pyvis's bundled copy under `/static/vis/` (no CDN: DESIGN.md §8).

Settings are read once, here; the driver is opened once at startup and closed at shutdown.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pyvis
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from neo4j import READ_ACCESS, Query
from neo4j.exceptions import DriverError, Neo4jError
from starlette.staticfiles import StaticFiles

import ui
from graph_service import graphiql
from graph_service.analysis import link_rules
from graph_service.audit import AuditLog
from graph_service.auth import AuthStore
from graph_service.database import open_driver
from graph_service.federation.router import federation_router
from graph_service.graphql import build_schema
from graph_service.graphql.router import GraphRouter, Refused, refused
from graph_service.logging import RequestLog, configure_logging
from graph_service.ratelimit import RateLimiter
from graph_service.settings import Settings, get_settings
from queries.context import GraphContext
from ui.exports import RenderOptions

log = logging.getLogger("gracegraph.app")

UI = Path(ui.__file__).resolve().parent
VIEWER = UI / "static"
VENDOR = UI / "vendor" / "node_modules"
VIS = Path(pyvis.__file__).resolve().parent / "templates" / "lib" / "vis-9.1.2"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        driver = await asyncio.to_thread(open_driver, settings)  # starts the local Neo4j if need be
        app.state.graph = GraphContext(driver, settings.neo4j_database, settings.query_timeout_s)
        app.state.settings = settings
        link_rules(settings)  # a mistyped evidence kind must stop the service
        log.info("service.started", extra={"neo4j": settings.bolt_uri, "database": settings.neo4j_database})
        try:
            yield
        finally:
            driver.close()
            log.info("service.stopped")

    # FastAPI's /docs and /redoc pages load their scripts from a CDN: off, like the OpenAPI file
    # that only they would read. GraphiQL documents the API.
    app = FastAPI(title="gracegraph", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.add_middleware(RequestLog)

    app.state.audit = AuditLog(settings.audit_path)  # every GraphQL operation and export lands here
    app.state.auth = AuthStore.of(settings)
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)
    app.add_exception_handler(Refused, refused)
    app.state.render_options = RenderOptions(chromium=settings.chromium)
    app.add_api_route("/healthz", healthz, methods=["GET"])
    ide = (lambda: graphiql.page(VENDOR)) if settings.graphiql else None
    app.include_router(GraphRouter(build_schema(settings), ide), prefix="/graphql")
    app.include_router(federation_router(), prefix="/federation")  # peers, signed calls (docs/federation.md)
    app.add_api_route(graphiql.VENDOR_URL + "/{name:path}", vendor_file, methods=["GET"])
    app.mount("/static/vis", StaticFiles(directory=VIS), name="vis")
    app.mount("/static", StaticFiles(directory=VIEWER, check_dir=False), name="static")
    app.add_api_route("/", viewer, methods=["GET"])
    app.add_api_route("/review", review, methods=["GET"])
    return app


def healthz(request: Request) -> JSONResponse:
    """One trivial query, without the driver's retries: a probe must answer quickly either way.

    A read, so on a cluster any follower answers it: a replica stays in the load balancer while the
    leader is being elected (reads go on; writes answer UNAVAILABLE until there is one).
    """
    graph: GraphContext = request.app.state.graph
    try:
        with graph.driver.session(database=graph.database, default_access_mode=READ_ACCESS) as session:
            session.run(Query("RETURN 1", timeout=graph.timeout_s)).consume()
    except (Neo4jError, DriverError, OSError) as exc:
        log.warning("healthz.unavailable", extra={"error": f"{type(exc).__name__}: {exc}"})
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ok", "neo4j": "ok"})


def vendor_file(name: str) -> Response:
    return graphiql.vendor_file(VENDOR, name)


def _page(name: str) -> Response:
    page = VIEWER / name
    if not page.is_file():
        return PlainTextResponse(f"the viewer is not installed ({page} is missing); GraphiQL is at /graphql\n",
                                 status_code=404)
    return FileResponse(page)


def viewer() -> Response:
    return _page("index.html")


def review() -> Response:
    """The entity-resolution review queue (ui/static/review.html)."""
    return _page("review.html")
