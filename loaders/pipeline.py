"""From files to the graph: parse, batch, write, count — with progress and a summary.

Parsing (CPU in this process) and writing (waiting on Neo4j) overlap: the parser fills batches
while a writer thread sends the previous one. A file with a fatal fault keeps what was read before
it (the reports before a truncation) unless the load is strict; under `--strict` a file loads only
when a first pass finds no rejected record and no fault in it.
"""

from __future__ import annotations

import gc
import queue
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from loaders.errors import MalformedInput
from loaders.model import Edge, Label, Node, Records, Rejection, Rel
from loaders.parse_worker import CHUNK, FileDone, FileStarted, ParseWorker
from loaders.writer import GraphWriter, WriteCounts

Parser = Callable[[Path], Iterator[Records]]
Transform = Callable[[Records], None]
#: Told, from the writer thread, that every record of a file is committed (loaders/load_runs.py).
FileWritten = Callable[[Path], None]
Event = FileStarted | FileDone | list[Records]

#: How many rejections the summary keeps verbatim (all are counted).
KEEP_REJECTIONS = 1000


@dataclass(slots=True)
class LoadSummary:
    files: int = 0
    records: int = 0
    written: WriteCounts = field(default_factory=WriteCounts)
    rejected: Counter[str] = field(default_factory=Counter)
    rejections: list[Rejection] = field(default_factory=list)
    faults: list[MalformedInput] = field(default_factory=list)
    skipped_files: list[str] = field(default_factory=list)

    def reject(self, rejection: Rejection) -> None:
        leaf = rejection.path.rsplit("/", 1)[-1].split("[", 1)[0] or "record"
        self.rejected[leaf] += 1
        if len(self.rejections) < KEEP_REJECTIONS:
            self.rejections.append(rejection)

    @property
    def failed(self) -> bool:
        return bool(self.faults or self.skipped_files)


class Progress:
    """What the pipeline tells its caller as it goes; the CLI draws it, tests ignore it."""

    def file_started(self, path: Path, size: int) -> None: ...
    def records_done(self, count: int) -> None: ...
    def file_done(self, path: Path, size: int) -> None: ...


def case_transform(case: str | None, agency: str | None) -> Transform | None:
    """Tie every report to a case (and the case to its agency), as `--case/--agency` ask."""
    if case is None:
        if agency is not None:
            raise ValueError("--agency needs --case: an agency owns cases, not loose reports")
        return None

    def attach(records: Records) -> None:
        reports = [n for n in records.nodes if n.label is Label.REPORT and n.key == records.record]
        if not reports:
            return
        records.nodes.append(Node(Label.CASE, case, sources=[records.record]))
        for report in reports:
            records.edges.append(Edge(Rel.PART_OF, (Label.REPORT, report.key), (Label.CASE, case),
                                      sources=[records.record]))
        if agency is not None:
            records.nodes.append(Node(Label.AGENCY, agency, sources=[records.record]))
            records.edges.append(Edge(Rel.OWNED_BY, (Label.CASE, case), (Label.AGENCY, agency),
                                      sources=[records.record]))

    return attach


class _BatchWriter:
    """A writer thread with at most two batches in flight, so parsing never waits long.

    A file's end travels through the same queue as the batches, after the last batch holding its
    records, so `written` hears of a file only once all of it is committed.
    """

    def __init__(self, writer: GraphWriter, counts: WriteCounts, written: FileWritten | None = None) -> None:
        self.writer = writer
        self.counts = counts
        self.written = written
        self.queue: queue.Queue[tuple[list[Node], list[Edge]] | Path | None] = queue.Queue(maxsize=2)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="graph-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (item := self.queue.get()) is not None:
            if self.error is None:
                try:
                    if isinstance(item, Path):
                        if self.written is not None:
                            self.written(item)
                    else:
                        self.counts.add(self.writer.write(*item))
                except BaseException as exc:  # re-raised in the caller's thread by put()/close()
                    self.error = exc

    def put(self, nodes: list[Node], edges: list[Edge]) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put((nodes, edges))

    def file_done(self, path: Path) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(path)

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error


def _clean(parse: Parser, path: Path, summary: LoadSummary) -> bool:
    """Strict mode's first pass: does the file parse with no rejection at all?"""
    clean = True
    try:
        for records in parse(path):
            for rejection in records.rejections:
                summary.reject(rejection)
                clean = False
    except MalformedInput as fault:
        summary.faults.append(fault)
        clean = False
    return clean


@contextmanager
def few_collections() -> Iterator[None]:
    """Run the cyclic garbage collector rarely while loading.

    Records hold no reference cycles, so reference counting frees them; but a batch is hundreds of
    thousands of small dicts and lists, and the collector's default thresholds made it sweep them
    over and over (measured: a third of the writer's own time in some batches).
    """
    before = gc.get_threshold()
    gc.set_threshold(200_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def load_files(writer: GraphWriter, paths: Iterable[Path], parse: Parser, *, strict: bool = False,
               batch_size: int = 20_000, transform: Transform | None = None,
               progress: Progress | None = None, parallel: bool = True,
               written: FileWritten | None = None) -> LoadSummary:
    """Load every file; never stops at a bad one, and counts everything it refused.

    With `parallel` (and not strict), files are parsed in a forked worker process while this one
    writes; under `--strict` each file is checked in a first pass here before it is written.
    `written` is called once per file that loaded with no fault, when all its records are committed
    (the batches are the same with or without it).
    """
    progress = progress or Progress()
    summary = LoadSummary()
    files = list(paths)
    with few_collections():
        if parallel and not strict:
            with ParseWorker(files, parse) as events:
                _load_events(writer, events, summary, batch_size, transform, progress, written)
        else:
            _load_events(writer, _parse_here(files, parse, strict, summary), summary, batch_size, transform,
                         progress, written)
    progress.records_done(summary.records)
    return summary


def _parse_here(files: list[Path], parse: Parser, strict: bool, summary: LoadSummary) -> Iterator[Event]:
    """The same events as the worker's, parsed in this process (and strict mode's first pass)."""
    for path in files:
        yield FileStarted(path)
        if strict and not _clean(parse, path, summary):
            summary.skipped_files.append(str(path))
            yield FileDone(path)
            continue
        chunk: list[Records] = []
        try:
            for records in parse(path):
                chunk.append(records)
                if len(chunk) >= CHUNK:
                    yield chunk
                    chunk = []
        except MalformedInput as fault:
            yield chunk
            yield FileDone(path, fault)
            continue
        yield chunk
        yield FileDone(path)


def _mark_finished(sink: _BatchWriter, finished: list[Path]) -> None:
    """After a batch is sent: the files whose last records it holds are finished once it commits."""
    for path in finished:
        sink.file_done(path)
    finished.clear()


def _load_events(writer: GraphWriter, events: Iterable[Event], summary: LoadSummary, batch_size: int,
                 transform: Transform | None, progress: Progress, written: FileWritten | None = None) -> None:
    sink = _BatchWriter(writer, summary.written, written)
    finished: list[Path] = []  # files read to the end whose records are not all in a sent batch yet
    nodes: list[Node] = []
    edges: list[Edge] = []
    try:
        for event in events:
            if isinstance(event, FileStarted):
                summary.files += 1
                progress.file_started(event.path, event.path.stat().st_size)
                continue
            if isinstance(event, FileDone):
                if event.fault is not None:
                    summary.faults.append(event.fault)
                elif written is not None and str(event.path) not in summary.skipped_files:
                    finished.append(event.path)  # told once the batch holding its last records is sent
                progress.file_done(event.path, event.path.stat().st_size)
                continue
            for records in event:
                summary.records += 1
                for rejection in records.rejections:
                    summary.reject(rejection)
                if transform is not None:
                    transform(records)
                nodes.extend(records.nodes)
                edges.extend(records.edges)
            if len(nodes) + len(edges) >= batch_size:
                sink.put(nodes, edges)
                progress.records_done(summary.records)
                nodes, edges = [], []
                _mark_finished(sink, finished)
        if nodes or edges:
            sink.put(nodes, edges)
        _mark_finished(sink, finished)
    finally:
        sink.close()
