"""Parsing in a second process, so that parsing and writing use both cores.

Parsing is Python work; writing is mostly waiting on Neo4j plus Python work of its own. In one
process they share one interpreter lock; here a forked child parses and sends the records back in
chunks through a bounded queue (so memory stays flat), and the parent only writes. The child is
forked before the parent starts any thread, and it is always reaped, also when the parent fails.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loaders.errors import MalformedInput
from loaders.model import Records

#: Records per message: large enough that pickling overhead per message is small.
CHUNK = 256
#: Messages in flight: bounds the memory held between the two processes.
IN_FLIGHT = 16


@dataclass(slots=True)
class FileStarted:
    path: Path


@dataclass(slots=True)
class FileDone:
    path: Path
    fault: MalformedInput | None = None


class ParserCrashed(RuntimeError):
    """A parser bug (not bad input) in the worker; carries the worker's traceback text."""


#: Linux prctl option: the signal this process gets when its parent dies.
_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """A parser whose loader was killed (SIGKILL, OOM killer) would block forever on its full queue.

    On Linux the kernel is asked to kill it with its parent; elsewhere (no prctl) the parent's own
    cleanup is all there is, and a killed parent may leave the parser blocked.
    """
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: no such call
        return
    if os.getppid() != parent:  # the parent died before the request was made
        os._exit(1)


def _work(paths: list[Path], parse: Any, queue: Any, parent: int) -> None:
    _die_with_parent(parent)
    try:
        for path in paths:
            queue.put(FileStarted(path))
            chunk: list[Records] = []
            fault = None
            try:
                for records in parse(path):
                    chunk.append(records)
                    if len(chunk) >= CHUNK:
                        queue.put(chunk)
                        chunk = []
            except MalformedInput as exc:
                fault = exc
            if chunk:
                queue.put(chunk)
            queue.put(FileDone(path, fault))
        queue.put(None)
    except BaseException:
        queue.put(ParserCrashed(traceback.format_exc()))


class ParseWorker:
    """A forked parser: `with ParseWorker(paths, parse) as events: for event in events: …`.

    Events come in file order: FileStarted, chunks (lists) of Records, FileDone with the file's
    fault if it had one. Enter it before starting any thread in this process (fork safety).
    """

    def __init__(self, paths: list[Path], parse: Any) -> None:
        context = multiprocessing.get_context("fork")
        self.queue = context.Queue(maxsize=IN_FLIGHT)
        self.process = context.Process(target=_work, args=(paths, parse, self.queue, os.getpid()),
                                       name="gracegraph-parser", daemon=True)

    def __enter__(self) -> Iterator[FileStarted | FileDone | list[Records]]:
        self.process.start()
        return self._events()

    def _events(self) -> Iterator[FileStarted | FileDone | list[Records]]:
        while True:
            item = self.queue.get()
            if item is None:
                return
            if isinstance(item, ParserCrashed):
                raise item
            yield item

    def __exit__(self, *exc: object) -> None:
        if self.process.is_alive():
            self.process.terminate()
        self.process.join()
        self.queue.close()
