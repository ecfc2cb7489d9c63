"""The history-export benchmark runs end to end at a small size, and counts requests right."""

from __future__ import annotations

from benchmarks.history_export import DAY_MS, START, least_requests, measure

WEEK_SPAN = 7 * DAY_MS + 1


def test_least_requests_is_pages_plus_one_per_empty_window() -> None:
    end = START + 3 * WEEK_SPAN - 1  # three windows
    assert least_requests([], START, end) == 3
    assert least_requests([START] * 1000, START, end) == 1 + 2
    assert least_requests([START] * 1001 + [end], START, end) == 2 + 1


def test_a_small_export_writes_every_row_within_a_few_extra_requests() -> None:
    result = measure(rows=1500, days=15)
    assert result.csv_lines == result.rows + 1
    assert result.least_requests <= result.requests <= 2 * result.least_requests
    assert result.peak_rss_mib > 0
