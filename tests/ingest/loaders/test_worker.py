"""Every format, not only PDF, is parsed in the worker under its time and memory limits."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import docx
import pytest

from ingest.loaders import DocumentLoader, LoaderError, ParseLimits

REPO = Path(__file__).resolve().parents[3]


def _error(loader: DocumentLoader, path: Path) -> str:
    with pytest.raises(LoaderError) as info:
        loader.load(path)
    return str(info.value)


def test_a_markdown_parse_over_its_time_limit_is_stopped(tmp_path: Path) -> None:
    path = tmp_path / "slow.md"
    path.write_text("# Heading\n\n" + "- item with *emphasis* and `code`\n" * 20_000)
    before = {child.pid for child in multiprocessing.active_children()}
    with DocumentLoader(ParseLimits(timeout_s=0.05)) as loader:
        assert _error(loader, path) == "Markdown parsing took longer than 0.05s"
        assert {child.pid for child in multiprocessing.active_children()} <= before  # killed
        loader.limits = replace(loader.limits, timeout_s=30.0)
        (tmp_path / "quick.md").write_text("# Quick\n\nParsed by a fresh worker.")
        assert loader.load(tmp_path / "quick.md").title == "Quick"


def test_an_html_parse_over_its_memory_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.html"
    path.write_text("<html><body>" + "<div><p>cell <b>x</b></p></div>" * 100_000
                    + "</body></html>")
    with DocumentLoader(ParseLimits(memory_mb=128)) as loader:
        message = _error(loader, path)
    assert message.startswith("HTML ") and "memory limit of 128 MiB" in message


def test_the_calling_process_never_imports_a_parser(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("Some text.")
    document.save(str(tmp_path / "a.docx"))
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import sys\nfrom pathlib import Path\nfrom ingest.loaders import DocumentLoader\n"
        "if __name__ == '__main__':\n"
        "    with DocumentLoader() as loader:\n"
        f"        assert loader.load(Path({str(tmp_path / 'a.docx')!r})).sections\n"
        "    print(sorted({'docx', 'lxml', 'bs4', 'markdown_it', 'pypdf'} & set(sys.modules)))\n")
    result = subprocess.run([sys.executable, str(probe)], capture_output=True, text=True,
                            check=True, cwd=REPO, env={"PYTHONPATH": str(REPO)}, timeout=60)
    assert result.stdout.strip() == "[]"
