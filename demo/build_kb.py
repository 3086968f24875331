"""Build the PDF and DOCX documents of the Vraagbaak demo knowledge base.

The text of these documents lives in demo/sources/*.txt, in a tiny markup:

    title: Document title            (header lines, until the line "---")
    out: it/some-document.pdf        (output path relative to demo/kb/; .pdf or .docx)
    subtitle: One line under the title
    ---
    # Heading 1 / ## Heading 2 / ### Heading 3
    A line of text is one paragraph.
    - bullet item
    1. numbered item
    | table | row |                  (first row of a table is the header row)
    === page ===                     (PDF only: start a new page; ignored for DOCX)

Usage (from the repository root):

    .venv/bin/python demo/build_kb.py

The output is deterministic as far as the libraries allow: fixed PDF creation date and
fixed DOCX core properties and zip timestamps. Each "=== page ===" section of a PDF source
must fit on one physical page; the script fails loudly when a section overflows, so page
numbers in eval/sets/demo.jsonl (expected_pages) stay valid.
"""

from __future__ import annotations

import io
import re
import sys
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from docx import Document
from docx.shared import Pt
from fpdf import FPDF

DEMO_DIR = Path(__file__).resolve().parent
SOURCES_DIR = DEMO_DIR / "sources"
KB_DIR = DEMO_DIR / "kb"
FIXED_DATE = datetime(2026, 1, 1, tzinfo=UTC)
COMPANY = "Noordwind Logistics B.V."
PAGE_BREAK = "=== page ==="


@dataclass
class Block:
    kind: str  # h1 h2 h3 p bullet number table pagebreak
    text: str = ""
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class Source:
    path: Path
    title: str
    out: str
    subtitle: str
    blocks: list[Block]


def parse_source(path: Path) -> Source:
    text = path.read_text(encoding="utf-8")
    header, sep, body = text.partition("\n---\n")
    if not sep:
        raise ValueError(f"{path}: missing '---' separator")
    meta: dict[str, str] = {}
    for line in header.splitlines():
        if line.strip():
            key, _, value = line.partition(":")
            meta[key.strip()] = value.strip()
    blocks: list[Block] = []
    for raw in body.splitlines():
        line = raw.rstrip()
        if not line.strip():
            continue
        if line.strip() == PAGE_BREAK:
            blocks.append(Block("pagebreak"))
        elif line.startswith("### "):
            blocks.append(Block("h3", line[4:].strip()))
        elif line.startswith("## "):
            blocks.append(Block("h2", line[3:].strip()))
        elif line.startswith("# "):
            blocks.append(Block("h1", line[2:].strip()))
        elif line.startswith("- "):
            blocks.append(Block("bullet", line[2:].strip()))
        elif re.match(r"^\d+\. ", line):
            blocks.append(Block("number", line))
        elif line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if blocks and blocks[-1].kind == "table":
                blocks[-1].rows.append(cells)
            else:
                blocks.append(Block("table", rows=[cells]))
        else:
            blocks.append(Block("p", line.strip()))
    for key in ("title", "out"):
        if key not in meta:
            raise ValueError(f"{path}: missing '{key}:' header")
    return Source(path, meta["title"], meta["out"], meta.get("subtitle", ""), blocks)


# --------------------------------------------------------------------------- PDF


class KbPDF(FPDF):
    doc_title = ""

    def header(self) -> None:
        self.set_font("Helvetica", "", 8)
        self.set_text_color(110, 110, 110)
        self.cell(0, 5, f"{COMPANY} | {self.doc_title} | Classification: INTERNAL", align="L")
        self.ln(9)
        self.set_text_color(0, 0, 0)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font("Helvetica", "", 8)
        self.set_text_color(110, 110, 110)
        self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="C")
        self.set_text_color(0, 0, 0)


def _ascii_check(src: Source) -> None:
    for block in src.blocks:
        for s in [block.text, *[c for row in block.rows for c in row]]:
            if not s.isascii():
                raise ValueError(f"{src.path}: non-ASCII text in PDF source: {s!r}")


def build_pdf(src: Source, out_path: Path) -> int:
    _ascii_check(src)
    pdf = KbPDF(format="A4")
    pdf.doc_title = src.title
    pdf.set_margins(20, 15, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.set_title(src.title)
    pdf.set_author(f"{COMPANY} - IT Operations")
    pdf.set_subject(src.subtitle or src.title)
    pdf.set_creator("Vraagbaak demo/build_kb.py")
    if hasattr(pdf, "set_creation_date"):
        pdf.set_creation_date(FIXED_DATE)
    pdf.alias_nb_pages()
    pdf.add_page()
    logical_pages = 1
    width = pdf.w - pdf.l_margin - pdf.r_margin

    # Title block on the first page.
    pdf.set_font("Helvetica", "B", 18)
    pdf.multi_cell(width, 9, src.title, new_x="LMARGIN", new_y="NEXT")
    if src.subtitle:
        pdf.set_font("Helvetica", "I", 10)
        pdf.multi_cell(width, 6, src.subtitle, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    for block in src.blocks:
        if block.kind == "pagebreak":
            pdf.add_page()
            logical_pages += 1
            continue
        if block.kind == "h1":
            pdf.set_font("Helvetica", "B", 14)
            pdf.ln(1)
            pdf.multi_cell(width, 7, block.text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
        elif block.kind == "h2":
            pdf.set_font("Helvetica", "B", 11.5)
            pdf.ln(1.5)
            pdf.multi_cell(width, 6, block.text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
        elif block.kind == "h3":
            pdf.set_font("Helvetica", "BI", 10.5)
            pdf.multi_cell(width, 5.5, block.text, new_x="LMARGIN", new_y="NEXT")
        elif block.kind == "p":
            pdf.set_font("Helvetica", "", 10)
            pdf.multi_cell(width, 5, block.text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
        elif block.kind in ("bullet", "number"):
            pdf.set_font("Helvetica", "", 10)
            if block.kind == "bullet":
                marker, text = "-", block.text
            else:
                marker, _, text = block.text.partition(" ")
            pdf.set_x(pdf.l_margin + 4)
            pdf.cell(6, 5, marker)
            pdf.multi_cell(width - 10, 5, text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(0.8)
        elif block.kind == "table":
            pdf.set_font("Helvetica", "", 9)
            with pdf.table() as table:
                for row in block.rows:
                    r = table.row()
                    for cell in row:
                        r.cell(cell)
            pdf.ln(2)
    if pdf.page_no() != logical_pages:
        raise RuntimeError(
            f"{src.path}: {logical_pages} logical pages became {pdf.page_no()} physical pages; "
            "shorten the text so every '=== page ===' section fits on one page"
        )
    out_path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(out_path))
    return pdf.page_no()


# --------------------------------------------------------------------------- DOCX


def _normalise_zip(path: Path) -> None:
    """Rewrite the .docx zip with fixed timestamps so rebuilds are byte-identical."""
    with zipfile.ZipFile(path) as zin:
        items = [(info, zin.read(info.filename)) for info in zin.infolist()]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for info, data in items:
            fixed = zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            zout.writestr(fixed, data)
    path.write_bytes(buf.getvalue())


def build_docx(src: Source, out_path: Path) -> int:
    doc = Document()
    props = doc.core_properties
    props.title = src.title
    props.subject = src.subtitle or src.title
    props.author = f"{COMPANY} - IT Operations"
    props.last_modified_by = "Vraagbaak demo/build_kb.py"
    props.created = FIXED_DATE.replace(tzinfo=None)
    props.modified = FIXED_DATE.replace(tzinfo=None)
    props.last_printed = FIXED_DATE.replace(tzinfo=None)
    props.revision = 1
    props.keywords = "Noordwind; demo; internal"
    props.comments = "Generated by demo/build_kb.py"

    style = doc.styles["Normal"]
    style.font.name = "Calibri"
    style.font.size = Pt(11)

    doc.add_paragraph(src.title, style="Title")
    if src.subtitle:
        doc.add_paragraph(src.subtitle, style="Subtitle")
    tables = 0
    for block in src.blocks:
        if block.kind == "pagebreak":
            continue
        if block.kind in ("h1", "h2", "h3"):
            doc.add_heading(block.text, level=int(block.kind[1]))
        elif block.kind == "p":
            doc.add_paragraph(block.text)
        elif block.kind == "bullet":
            doc.add_paragraph(block.text, style="List Bullet")
        elif block.kind == "number":
            doc.add_paragraph(block.text.partition(" ")[2], style="List Number")
        elif block.kind == "table":
            ncols = max(len(r) for r in block.rows)
            table = doc.add_table(rows=0, cols=ncols)
            table.style = "Table Grid"
            for i, row in enumerate(block.rows):
                cells = table.add_row().cells
                for j, value in enumerate(row):
                    cells[j].text = value
                    if i == 0:
                        for run in cells[j].paragraphs[0].runs:
                            run.bold = True
            tables += 1
    out_path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(out_path))
    _normalise_zip(out_path)
    return tables


def main() -> int:
    sources = sorted(SOURCES_DIR.glob("*.txt"))
    if not sources:
        print(f"no sources found in {SOURCES_DIR}", file=sys.stderr)
        return 1
    for path in sources:
        src = parse_source(path)
        out_path = KB_DIR / src.out
        if out_path.suffix == ".pdf":
            pages = build_pdf(src, out_path)
            print(f"pdf   {src.out:48s} {pages} pages")
        elif out_path.suffix == ".docx":
            tables = build_docx(src, out_path)
            print(f"docx  {src.out:48s} {tables} table(s)")
        else:
            raise ValueError(f"{path}: unsupported output type {out_path.suffix}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
