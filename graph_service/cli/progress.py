"""The load's progress bar and its closing summary, drawn with rich."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from loaders import pipeline
from loaders.pipeline import LoadSummary


class BarProgress(pipeline.Progress):
    """Bytes of input done (whole files) with a live count of records, so long loads show life."""

    def __init__(self, console: Console, total_bytes: int) -> None:
        self.bar = Progress(
            TextColumn("[bold]loading"), BarColumn(), DownloadColumn(),
            TextColumn("{task.fields[records]} records"), TextColumn("{task.fields[file]}"),
            TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=False)
        self.task = self.bar.add_task("load", total=total_bytes, records=0, file="")

    def __enter__(self) -> BarProgress:
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()

    def file_started(self, path: Path, size: int) -> None:
        self.bar.update(self.task, file=path.name)

    def records_done(self, count: int) -> None:
        self.bar.update(self.task, records=count)

    def file_done(self, path: Path, size: int) -> None:
        self.bar.advance(self.task, size)


def summary_table(summary: LoadSummary) -> Table:
    """Created / updated / rejected per kind: what a second run of the same load shows as zeros."""
    table = Table(title=f"{summary.files} files, {summary.records} records")
    table.add_column("kind")
    table.add_column("created", justify="right")
    table.add_column("updated", justify="right")
    table.add_column("rejected", justify="right")
    written = summary.written
    kinds = sorted(set(written.created) | set(written.updated))
    for kind in kinds:
        table.add_row(kind, str(written.created[kind]), str(written.updated[kind]), "")
    for kind, count in sorted(summary.rejected.items()):
        table.add_row(kind, "", "", str(count))
    table.add_section()
    table.add_row("total", str(sum(written.created.values())), str(sum(written.updated.values())),
                  str(sum(summary.rejected.values())))
    return table
