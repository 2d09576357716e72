"""The suite's own detector of sanitizer and valgrind reports (conftest.py) finds
them, and only them: an instrumented run cannot pass by missing a report."""
import pytest

from conftest import check_no_sanitizer_report

REPORTS = [
    "==12==ERROR: AddressSanitizer: heap-use-after-free on address 0x602000000010",
    "==12==ERROR: LeakSanitizer: detected memory leaks",
    "server/store.c:120:5: runtime error: signed integer overflow: 2147483647 + 1",
    "SUMMARY: UndefinedBehaviorSanitizer: undefined-behavior server/x.c:1:1 in f",
    "==4242== Invalid read of size 8",
    "==4242== 16 bytes in 1 blocks are definitely lost in loss record 1 of 2",
]

CLEAN = (
    "2026-11-27T18:00:00.123Z INFO listening on http://127.0.0.1:8080\n"
    "2026-11-27T18:00:01.000Z INFO GET /api/v0/accounts/x/users 200 0.4ms by y\n"
    "2026-11-27T18:00:02.000Z WARN libmicrohttpd: Server reached connection limit.\n"
    "2026-11-27T18:00:03.000Z INFO GET /runtime%20error 404 0.1ms\n"
)


@pytest.mark.parametrize("line", REPORTS)
def test_reports_are_caught(line):
    with pytest.raises(pytest.fail.Exception):
        check_no_sanitizer_report(CLEAN + line + "\n" + CLEAN, "sample")


def test_ordinary_logs_pass():
    check_no_sanitizer_report(CLEAN, "sample")
