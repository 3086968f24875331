"""Reading a document's date: ISO and HTTP dates, front-matter fields (the latest wins), the
file's time as the fallback, and implausible values ignored rather than believed."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from ingest.dates import FILE_MTIME, DocumentDate, file_date, front_matter_date, parse_date


@pytest.mark.parametrize(("value", "expected"), [
    ("2024-03-05", datetime(2024, 3, 5, tzinfo=UTC)),
    ("'2024-03-05'", datetime(2024, 3, 5, tzinfo=UTC)),
    ("2024-03-05T10:15:00Z", datetime(2024, 3, 5, 10, 15, tzinfo=UTC)),
    ("2024-03-05T10:15:00+01:00", datetime(2024, 3, 5, 9, 15, tzinfo=UTC)),
    ("2024-03-05 10:15", datetime(2024, 3, 5, 10, 15, tzinfo=UTC)),
    ("Tue, 05 Mar 2024 10:15:00 GMT", datetime(2024, 3, 5, 10, 15, tzinfo=UTC)),
    (date(2024, 3, 5), datetime(2024, 3, 5, tzinfo=UTC)),
    (datetime(2024, 3, 5, 10, 15), datetime(2024, 3, 5, 10, 15, tzinfo=UTC)),
])
def test_dates_in_the_usual_spellings_are_read_as_utc(value: object,
                                                      expected: datetime) -> None:
    assert parse_date(value) == expected


@pytest.mark.parametrize("value", [
    "soon", "", "05/03/2024", "1969-12-31", "0001-01-01", None, 20240305,
    (datetime.now(UTC) + timedelta(days=30)).date().isoformat(), "2024-13-40", "9" * 100,
])
def test_a_value_that_is_no_plausible_date_is_ignored(value: object) -> None:
    assert parse_date(value) is None


def test_front_matter_takes_the_latest_of_its_date_fields() -> None:
    block = ("title: VPN guide\ndate: 2021-06-01\nupdated: 2023-02-01  # after the audit\n"
             "last_reviewed: '2024-01-15'\nowner: ann\n")
    assert front_matter_date(block) == DocumentDate(datetime(2024, 1, 15, tzinfo=UTC),
                                                    "markdown:last_reviewed")
    # a later "date" beats an earlier review; an unreadable field is passed over
    assert front_matter_date("date: 2024-05-01\nlast_reviewed: 2023-01-01\n") == DocumentDate(
        datetime(2024, 5, 1, tzinfo=UTC), "markdown:date")
    assert front_matter_date("updated: last week\ndate: 2022-02-02\n") == DocumentDate(
        datetime(2022, 2, 2, tzinfo=UTC), "markdown:date")
    # only top-level fields count: an indented "date:" belongs to something else
    assert front_matter_date("title: x\nmeeting:\n  date: 2024-01-01\n") is None
    assert front_matter_date("title: no dates here\n") is None


def test_the_file_time_is_the_fallback_date(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("text")
    when = datetime(2023, 4, 5, 6, 7, 8, tzinfo=UTC)
    os.utime(path, (when.timestamp(), when.timestamp()))
    assert file_date(path) == DocumentDate(when, FILE_MTIME)
    assert file_date(tmp_path / "gone.txt") is None
