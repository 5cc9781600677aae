"""Progress lines off a terminal: iteration and manual updates both log, at the interval, with a final line."""

import io

from spinaptic.experiments.progress import Progress


def _lines(stream: io.StringIO) -> list[str]:
    return [ln for ln in stream.getvalue().splitlines() if ln]


def test_iteration_logs_start_and_done():
    out = io.StringIO()
    p = Progress(stream=out)
    p.interval_s = 0.0
    assert list(p(range(3), desc="loop")) == [0, 1, 2]
    lines = _lines(out)
    assert "loop: 0/3" in lines[0] and "done" in lines[-1]


def test_manual_updates_log_lines_and_finish():
    out = io.StringIO()
    p = Progress(stream=out)
    p.interval_s = 0.0
    bar = p(total=4, desc="manual")
    for _ in range(4):
        bar.update(1)
    lines = _lines(out)
    assert len(lines) >= 3, lines  # the start, intermediate ticks, the end
    assert "manual: 4/4 (100 %)" in lines[-1] and "done" in lines[-1]
    assert "manual: 1/4 (25 %)" in lines[0] and "ETA ?" not in lines[0]  # timed from the bar's creation


def test_quiet_prints_nothing():
    out = io.StringIO()
    p = Progress(quiet=True, stream=out)
    bar = p(total=2, desc="x")
    getattr(bar, "update", lambda n: None)(1)
    assert out.getvalue() == ""
