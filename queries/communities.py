"""Community detection: the networks, their members and what ties them.

`run_communities` pulls the account projection (`queries/projection.py`), finds communities in
process (`queries/community_detection.py`) or on the server's Graph Data Science plugin when it has
one (`queries/gds.py`), and stores the run (`queries/community_store.py`). `communities` lists a
run's communities, `community` describes one: members by PageRank within it, the reports,
providers, known files, cases and agencies it touches, and the identifiers that bind it, each with
the reports that say so. `compare_runs` (`queries/community_changes.py`) says what changed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from graph_service.settings import Settings
from queries.bounds import LIMIT, check_range
from queries.community_changes import compare_runs
from queries.community_details import community, community_summary, to_summary
from queries.community_detection import Method, detect, shape
from queries.community_results import CommunityRun, CommunitySummary
from queries.community_store import delete_run, finish_run, get_run, list_runs, new_run_id, write_run
from queries.context import GraphContext
from queries.errors import BadInput
from queries.gds import choose_engine, gds_leiden
from queries.projection import PROJECTORS, ProjectionOptions

__all__ = ["ORDERS", "RunOptions", "communities", "community", "community_summary", "compare_runs", "delete_run",
           "get_run", "list_runs", "options_from", "run_communities"]


@dataclass(frozen=True, slots=True)
class RunOptions:
    method: Method = field(default_factory=Method)
    projection: ProjectionOptions = field(default_factory=ProjectionOptions)
    projector: str = "shared-identifiers"
    engine: str = "auto"  # auto | local | gds
    min_size: int = 2  # smaller communities are not written (their accounts stay unplaced)


def options_from(settings: Settings, algorithm: str | None = None, quality: str | None = None,
                 resolution: float | None = None, seed: int | None = None, engine: str | None = None,
                 min_size: int | None = None, projector: str | None = None) -> RunOptions:
    """The settings' defaults (GRACEGRAPH_COMMUNITY_*), overridden by what a caller gave."""
    method = Method(algorithm=algorithm or settings.community_algorithm,
                    quality=quality or settings.community_quality,
                    resolution=resolution if resolution is not None else settings.community_resolution,
                    seed=seed if seed is not None else settings.community_seed)
    return RunOptions(method=method, projection=ProjectionOptions.from_settings(settings),
                      projector=projector or settings.community_projection, engine=engine or settings.community_engine,
                      min_size=min_size if min_size is not None else settings.community_min_size)


def run_communities(ctx: GraphContext, options: RunOptions) -> CommunityRun:
    """Project, detect, store; returns the stored run with the seconds each step took."""
    method = options.method.checked()
    if options.projector not in PROJECTORS:
        raise BadInput(f"unknown projection {options.projector!r}; known: {', '.join(PROJECTORS)}")
    check_range("min_size", options.min_size, (1, 10_000))
    engine = "local" if method.algorithm != "leiden" and options.engine == "auto" else options.engine
    engine = choose_engine(ctx, engine, method)
    began = time.perf_counter()
    projection = PROJECTORS[options.projector](ctx, options.projection)
    projected = time.perf_counter()
    membership = gds_leiden(ctx, projection, method) if engine == "gds" else detect(projection.graph, method)
    detected = time.perf_counter()
    found = shape(projection.graph, membership)
    kept = [size for size in found.size if size >= options.min_size]
    record = CommunityRun(
        run=new_run_id(), algorithm=("gds." if engine == "gds" else "") + method.algorithm,
        engine=engine, parameters=method.describe(), projection=projection.describe(),
        created_at=datetime.now(UTC).isoformat(), accounts=len(projection.keys),
        edges=projection.graph.ecount(), communities=len(kept), placed=sum(kept), min_size=options.min_size,
        status="writing")
    write_run(ctx, record, projection.keys, membership, found)
    seconds = {"project": round(projected - began, 3), "detect": round(detected - projected, 3),
               "write": round(time.perf_counter() - detected, 3)}
    finish_run(ctx, record.run, seconds)
    return replace(record, seconds=seconds, status="done")


#: How `communities` may be ordered (largest first in each), by the property it reads.
ORDERS = {"SIZE": "size", "DENSITY": "density", "REPORTS": "reports", "PROVIDERS": "providers",
          "KNOWN_FILES": "known_files", "WEIGHT": "weight"}

_LIST = """
MATCH (c:Community {run: $run}) WHERE c.size >= $min_size
RETURN c {.*} AS c
ORDER BY c[$order] DESC, c.number
LIMIT $limit
"""


def communities(ctx: GraphContext, run: str | None = None, min_size: int = 2, limit: int = 50,
                order_by: str = "SIZE") -> list[CommunitySummary]:
    """A run's communities (the newest finished run when `run` is None), largest first by `order_by`."""
    check_range("min_size", min_size, (1, 10_000))
    check_range("limit", limit, LIMIT)
    if order_by not in ORDERS:
        raise BadInput(f"unknown order {order_by!r}; known: {', '.join(ORDERS)}")
    chosen = get_run(ctx, run)
    rows = ctx.read(_LIST, run=chosen.run, min_size=min_size, order=ORDERS[order_by], limit=limit)
    return [to_summary(row["c"]) for row in rows]
