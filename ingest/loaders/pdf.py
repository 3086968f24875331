"""PDF loading with pypdf, isolated in a worker process with a time and memory limit.

A hostile or merely broken PDF can make a parser loop for minutes or allocate gigabytes, so the
parsing runs in one long-lived child process ("spawn" context: nothing of the parent's threads,
locks or model state is inherited), with ``RLIMIT_AS`` set inside it and a wall-clock timeout
enforced by the parent. On a timeout or a crash the child is killed and a fresh one is started
for the next PDF. The child returns plain data only; errors come back as short reasons, never
as pickled exceptions with tracebacks.
"""

from __future__ import annotations

import logging
import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from ..sections import LoadedDocument, LoaderError, Section
from .structure import clean_inline, clean_text, first_short_line, readable_stem

# (title from metadata, [(1-based page number, text)], error reason or None)
PdfResult = tuple[str | None, list[tuple[int, str]], str | None]

_MEMORY_ERROR = "memory"


def _limit_memory(memory_mb: int) -> None:
    """Worker initializer: cap the child's address space and silence pypdf's log chatter."""
    import resource

    limit = memory_mb * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    logging.getLogger("pypdf").setLevel(logging.CRITICAL)


def extract_pdf(path: str) -> PdfResult:
    """Runs in the child: read ``path`` and return its metadata title and per-page text."""
    try:
        from pypdf import PasswordType, PdfReader

        reader = PdfReader(path)
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            return None, [], "encrypted PDF"
        title = None
        if reader.metadata is not None and reader.metadata.title:
            title = str(reader.metadata.title)
        pages = [(number, page.extract_text() or "") for number, page in enumerate(reader.pages, 1)]
        return title, pages, None
    except MemoryError:
        return None, [], _MEMORY_ERROR
    except Exception as exc:  # pypdf raises many types for damaged files
        if type(exc).__name__ in {"FileNotDecryptedError", "DependencyError"}:
            return None, [], "encrypted PDF"
        return None, [], "corrupt or truncated PDF"


class PdfWorker:
    """A lazily started, single-process pool that parses PDFs under time and memory limits."""

    def __init__(self, timeout_s: float, memory_mb: int) -> None:
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self._pool: ProcessPoolExecutor | None = None

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_limit_memory,
                initargs=(self.memory_mb,),
            )
        return self._pool

    def _submit(self, path: str) -> Future[PdfResult]:
        try:
            return self._get_pool().submit(extract_pdf, path)
        except BrokenProcessPool:  # the worker died since the last PDF (e.g. the OOM killer)
            self._discard()
            return self._get_pool().submit(extract_pdf, path)

    def run(self, path: Path) -> PdfResult:
        try:
            future = self._submit(str(path))
            return future.result(timeout=self.timeout_s)
        except FuturesTimeout:
            self._discard()
            raise LoaderError(f"PDF parsing took longer than {self.timeout_s:g}s") from None
        except (BrokenProcessPool, MemoryError):
            self._discard()
            raise LoaderError(
                f"PDF parser crashed (memory limit of {self.memory_mb} MiB exceeded?)"
            ) from None

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


def load_pdf(path: Path, worker: PdfWorker) -> LoadedDocument:
    """One section per page with text; title from metadata, the first line, or the file name."""
    try:
        with path.open("rb") as handle:
            header = handle.read(1024)
    except OSError as exc:
        raise LoaderError(f"could not read file ({exc.strerror or 'I/O error'})") from None
    if b"%PDF-" not in header:
        raise LoaderError("not a PDF file")
    title, pages, error = worker.run(path)
    if error == _MEMORY_ERROR:
        raise LoaderError(f"PDF needs more than the memory limit of {worker.memory_mb} MiB")
    if error is not None:
        raise LoaderError(error)
    sections = [Section(text, (), number) for number, raw in pages if (text := clean_text(raw))]
    if not sections:
        raise LoaderError("no extractable text (scanned PDF?)")
    title = clean_inline(title or "")
    if not title and sections[0].page == 1:
        title = first_short_line(sections[0].text) or ""
    return LoadedDocument(title or readable_stem(path), sections)
