"""`gracegraph load cybertip|hashset|table`: files into the graph, with a summary."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import typer
from neo4j.exceptions import DriverError, Neo4jError, ServiceUnavailable, SessionExpired
from rich.console import Console

from graph_service.cli.errors import err, reported
from graph_service.cli.progress import BarProgress, summary_table
from graph_service.cli.supernodes import mark
from graph_service.database import open_driver
from graph_service.settings import get_settings
from loaders.errors import GracegraphError, Neo4jUnavailable
from loaders.load_runs import LoadRun, file_sha256, finished_hashes
from loaders.model import Records
from loaders.pipeline import LoadSummary, Parser, case_transform, load_files
from loaders.schema import ensure_schema
from loaders.writer import GraphWriter

app = typer.Typer(help="Load referral files, hash sets or tables into the graph.", no_args_is_help=True)
out = Console(highlight=False, soft_wrap=True)

PATHS = typer.Argument(..., exists=True, help="Files, or directories to read every matching file of.")
STRICT = typer.Option(False, "--strict", help="Load nothing from a file that has any bad record.")
CASE = typer.Option(None, "--case", help="Tie every loaded report to this case number.")
AGENCY = typer.Option(None, "--agency", help="The agency code that owns --case.")
RESUME = typer.Option(False, "--resume", help="Skip files (by content hash) that an earlier load finished.")


def expand(paths: list[Path], suffixes: tuple[str, ...],
           belongs: Callable[[Path], bool] | None = None) -> list[Path]:
    """Files as given, and directories walked (sorted, so every run reads in the same order).

    A file found by walking a directory that `belongs` rejects (a truth.json beside the reports)
    is skipped with a note; a file named explicitly is always read, and fails loudly if it is wrong.
    """
    found: list[Path] = []
    for path in paths:
        if not path.is_dir():
            found.append(path)
            continue
        for candidate in sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes):
            if belongs is None or belongs(candidate):
                found.append(candidate)
            else:
                err.print(f"skipped: {candidate} (not this kind of file)")
    return found


def looks_like_referral(path: Path) -> bool:
    """XML files are referrals; a JSON file only if its start names a report (the JSON export)."""
    if path.suffix.lower() != ".json":
        return True
    with path.open("rb") as f:
        head = f.read(65536)
    return b'"reportId"' in head or b'"reportedInformation"' in head


def run_load(files: list[Path], parse: Parser, *, strict: bool, case: str | None = None,
             agency: str | None = None, supernodes: bool = True, kind: str = "cybertip",
             resume: bool = False) -> LoadSummary:
    """Shared by every `load` command: schema, progress bar, summary, problems, exit code.

    With `supernodes`, the supernode marking runs after the load (graph_service/cli/supernodes.py).
    Every load is recorded as a `LoadRun` (loaders/load_runs.py); with `resume`, files that an
    earlier `kind` load finished are skipped by content hash.
    """
    if not files:
        raise GracegraphError("no input files found")
    settings = get_settings()
    transform = case_transform(case, agency)
    driver = open_driver(settings)
    try:
        database = settings.neo4j_database
        ensure_schema(driver, database)
        hashes = {path: file_sha256(path) for path in files}
        done = finished_hashes(driver, database, kind) if resume else set()
        finished = [path for path in files if hashes[path] in done]
        for path in finished:
            out.print(f"skipped: {path} (loaded already by an earlier run)")
        files = [path for path in files if path not in finished]
        run = LoadRun.start(driver, database, kind, {p: hashes[p] for p in files}, finished)
        writer = GraphWriter(driver, database)
        try:
            with BarProgress(out, sum(p.stat().st_size for p in files)) as progress:
                summary = load_files(writer, files, parse, strict=strict, batch_size=settings.batch_size,
                                     transform=transform, progress=progress, written=run.file_finished)
        except BaseException as exc:
            # The database may be what failed: the run then stays `running`, which is the truth.
            with contextlib.suppress(Neo4jError, DriverError, OSError):
                run.end(True, 0, 0, 0)
            if isinstance(exc, ServiceUnavailable | SessionExpired):
                raise Neo4jUnavailable(
                    f"Neo4j became unreachable during the load ({exc}); every committed batch is kept and the "
                    f"files finished are recorded in LoadRun {run.key}: start Neo4j and rerun with --resume"
                ) from exc
            raise
        run.end(summary.failed, summary.written.elements_created, sum(summary.written.updated.values()),
                sum(summary.rejected.values()))
        out.print(summary_table(summary))
        if supernodes:
            mark(driver, settings)
    finally:
        driver.close()
    written = summary.written
    out.print(f"created {written.elements_created}, updated {sum(written.updated.values())}, "
              f"rejected {sum(summary.rejected.values())}")
    for rejection in summary.rejections[:50]:
        err.print(f"rejected: {rejection}")
    if len(summary.rejections) > 50 or sum(summary.rejected.values()) > 50:
        err.print(f"… {sum(summary.rejected.values())} rejections in all")
    if summary.written.file_conflicts:
        err.print(f"warning: {summary.written.file_conflicts} files known under separate hashes "
                  "were found to be one file and left as separate nodes")
    for fault in summary.faults:
        err.print(f"[red]error:[/red] {fault}")
    for skipped in summary.skipped_files:
        err.print(f"[red]not loaded (--strict):[/red] {skipped}")
    if summary.failed:
        raise typer.Exit(1)
    return summary


def _referral_parser(region: str) -> Parser:
    from loaders.cybertip import parse_cybertip
    from loaders.cybertip_json import parse_cybertip_json

    def parse(path: Path) -> Iterator[Records]:
        if path.suffix.lower() == ".json":
            return parse_cybertip_json(path, default_region=region)
        return parse_cybertip(path, default_region=region)

    return parse


@app.command()
@reported
def cybertip(paths: list[Path] = PATHS, strict: bool = STRICT, case: str | None = CASE,
             agency: str | None = AGENCY, resume: bool = RESUME) -> None:
    """CyberTipline reports: XML (single or bundles) and law-enforcement JSON exports."""
    files = expand(paths, (".xml", ".json"), looks_like_referral)
    run_load(files, _referral_parser(get_settings().default_region), strict=strict, case=case,
             agency=agency, kind="cybertip", resume=resume)


@app.command()
@reported
def hashset(paths: list[Path] = PATHS, strict: bool = STRICT, resume: bool = RESUME,
            name: str | None = typer.Option(None, "--name", help="Hash set name (default: file name)."),
            version: str | None = typer.Option(None, "--version", help="Hash set version.")) -> None:
    """Hash sets: Project VIC VICS JSON, CSV (hash,algorithm,category) or one hash per line."""
    from loaders.hashsets import parse_hashset

    files = expand(paths, (".json", ".csv", ".txt"))
    run_load(files, partial(parse_hashset, name=name, version=version), strict=strict, kind="hashset",
             resume=resume)


@app.command()
@reported
def exits(paths: list[Path] = PATHS, strict: bool = STRICT, resume: bool = RESUME,
          name: str | None = typer.Option(None, "--name", help="List name (default: file name).")) -> None:
    """VPN/Tor exit lists: CSV `ip,provider`; the addresses become supernodes (reason exit_list)."""
    from loaders.exits import parse_exits

    files = expand(paths, (".csv", ".txt"))
    run_load(files, partial(parse_exits, name=name), strict=strict, kind="exits", resume=resume)


@app.command()
@reported
def table(paths: list[Path] = PATHS,
          mapping: Path = typer.Option(..., "--mapping", exists=True, help="YAML column mapping."),
          strict: bool = STRICT, resume: bool = RESUME) -> None:
    """CSV or JSON-lines tables (login logs, subscriber records) through a YAML mapping."""
    from loaders.tabular import load_mapping, parse_table

    spec = load_mapping(mapping)
    files = expand(paths, (".csv", ".jsonl", ".ndjson"))
    run_load(files, partial(parse_table, mapping=spec), strict=strict, kind="table", resume=resume)
