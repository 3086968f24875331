"""The child process every parse runs in, with a wall-time and an address-space limit.

A hostile or merely broken file can make a parser loop for minutes or allocate gigabytes, and
the process that asked (the API server during a re-index) must not suffer for it. So parsing
runs in one long-lived worker process with ``RLIMIT_AS`` set inside it and a wall-clock timeout
enforced by the parent; on a timeout or a crash the worker is killed and a fresh one is started
for the next file. Reusing the worker keeps the cost per file to sending its bytes and getting
the document back.

Workers come from a "forkserver": a clean process started once per parent, with the loaders'
libraries already imported, that forks a worker in milliseconds. A plain fork would copy the
parent's threads, locks and gigabytes of model address space (over any sane ``RLIMIT_AS``); a
"spawn" would pay a fresh interpreter and every import again for each sync.

Stopping: a worker given a ``stop`` event checks it while it waits for a parse (every
``STOP_POLL_S``); once it is set, the parse child is killed and ``Cancelled`` raised, so a
server shutting down mid-parse waits a tenth of a second, not the parse timeout. A parent killed
outright (SIGKILL, the OOM killer) runs no cleanup, so each worker watches it (``_die_with``) and
exits with it; the forkserver and the resource tracker follow once the worker is gone.
"""

from __future__ import annotations

import multiprocessing
import os
import select
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from concurrent.futures.process import BrokenProcessPool

from ..sections import LoadedDocument, LoaderError
from .limits import ParseLimits
from .parsing import KINDS, Parsed, parse

# imported once in the forkserver, so a fresh worker does not pay for them
_PRELOAD = ["ingest.loaders.parsing", "ingest.loaders.docx", "ingest.loaders.html",
            "ingest.loaders.markdown", "ingest.loaders.pdf", "ingest.loaders.text"]


STOP_POLL_S = 0.1  # how often a waiting parse looks at its stop event


class Cancelled(BaseException):
    """The parse (and the sync around it) was stopped because its process is shutting down.

    A ``BaseException``, like ``asyncio.CancelledError``: the ``except Exception`` that keeps
    one bad file from failing a whole sync must let it through, and the file it interrupted is
    not at fault."""


def _die_with(parent: int) -> None:
    """Exit the moment ``parent`` (the process parsing through this worker) does.

    The kernel's ``PR_SET_PDEATHSIG`` cannot do it: this worker's parent is the forkserver, and
    the forkserver lives on while this worker holds the descriptors the parent passed on. So a
    thread waits on a pidfd of the parent; a parse holding the GIL in C code delays the exit
    until it lets go of it."""
    try:
        pidfd = os.pidfd_open(parent)
    except ProcessLookupError:  # gone already
        os._exit(1)
    except (AttributeError, OSError):  # not Linux 5.3+: the stop event still kills the child
        return

    def watch() -> None:
        select.select([pidfd], [], [])
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _init_worker(memory_mb: int, parent: int) -> None:
    """Worker initializer: cap the child's address space; die with ``parent``."""
    import resource

    limit = memory_mb * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    _die_with(parent)


class ParseWorker:
    """A lazily started, single-process pool that parses files under ``limits``; with a
    ``stop`` event, a parse in flight is abandoned (its child killed) once it is set."""

    def __init__(self, limits: ParseLimits, *, stop: threading.Event | None = None) -> None:
        self._limits = limits
        self._stop = stop
        self._pool: ProcessPoolExecutor | None = None

    @property
    def limits(self) -> ParseLimits:
        return self._limits

    @limits.setter
    def limits(self, limits: ParseLimits) -> None:
        """New limits apply from the next file; a new memory limit needs a new worker."""
        if limits.memory_mb != self._limits.memory_mb:
            self._discard()
        self._limits = limits

    def parse(self, suffix: str, data: bytes, name: str) -> LoadedDocument:
        """The document in ``data``, or ``LoaderError`` with the reason it was refused."""
        kind, limits = KINDS[suffix], self._limits
        crashed = f"{kind} parser crashed (memory limit of {limits.memory_mb} MiB exceeded?)"
        self._check_stop()
        try:
            parsed = self._wait(self._submit(suffix, data, name), limits.timeout_s)
        except Cancelled:
            self._discard()
            raise
        except FuturesTimeout:
            self._discard()
            raise LoaderError(f"{kind} parsing took longer than {limits.timeout_s:g}s") from None
        except (BrokenProcessPool, MemoryError):
            self._discard()
            raise LoaderError(crashed) from None
        except Exception as exc:  # e.g. the result could not be sent back
            self._discard()
            raise LoaderError(f"could not parse {kind} file ({type(exc).__name__})") from None
        if parsed.out_of_memory:
            raise LoaderError(f"{kind} needs more than the memory limit of {limits.memory_mb} MiB")
        if parsed.document is None:
            raise LoaderError(parsed.reason)
        return parsed.document

    def _check_stop(self) -> None:
        if self._stop is not None and self._stop.is_set():
            raise Cancelled("the parse was stopped: the process is shutting down")

    def _wait(self, future: Future[Parsed], timeout_s: float) -> Parsed:
        """The parse's result within ``timeout_s``, looking at the stop event meanwhile."""
        if self._stop is None:
            return future.result(timeout=timeout_s)
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise FuturesTimeout
            try:
                return future.result(timeout=min(remaining, STOP_POLL_S))
            except FuturesTimeout:
                self._check_stop()

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(_PRELOAD)
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=context,
                                             initializer=_init_worker,
                                             initargs=(self._limits.memory_mb, os.getpid()))
        return self._pool

    def _submit(self, suffix: str, data: bytes, name: str) -> Future[Parsed]:
        try:
            return self._get_pool().submit(parse, suffix, data, name, self._limits)
        except BrokenProcessPool:  # the worker died since the last file (e.g. the OOM killer)
            self._discard()
            return self._get_pool().submit(parse, suffix, data, name, self._limits)

    def _discard(self) -> None:
        """Kill the worker (it may be stuck in a parse loop) and forget the pool."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        # Python 3.11 has no public way to kill a pool's workers (3.14 adds kill_workers()).
        workers = list((getattr(pool, "_processes", None) or {}).values())
        for process in workers:
            process.kill()
        pool.shutdown(wait=True, cancel_futures=True)
        for process in workers:
            process.join()

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
