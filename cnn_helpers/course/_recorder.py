"""A pytest plugin, loaded by the grader with ``-p``, that writes each nbval cell's outcome to JSON.

The grader reads that file instead of parsing pytest's terminal output. The path comes from the
environment variable ``CNN_COURSE_GRADE_REPORT``.
"""

import json
import os
import re

import pytest

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_records = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    cell = getattr(item, "cell", None)
    if cell is None:
        return
    failed_setup = report.when == "setup" and not report.passed
    if report.when != "call" and not failed_setup:
        return
    timed_out = bool(getattr(getattr(item, "parent", None), "timed_out", False))
    passed = report.passed  # a cell after a time-out is marked xfail; if it still passes, it passed
    _records.append(
        {
            "cell_index": getattr(item, "cell_num", None),
            "tags": list(cell.get("metadata", {}).get("tags", [])),
            "passed": bool(passed),
            "skipped_after_timeout": bool(hasattr(report, "wasxfail") and not passed),
            "timed_out": timed_out,
            "detail": ANSI.sub("", str(report.longrepr)) if report.longrepr else "",
        }
    )


def pytest_sessionfinish(session, exitstatus):
    path = os.environ.get("CNN_COURSE_GRADE_REPORT")
    if path:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(_records, handle)
