"""Progress of a long run: a tqdm bar on a terminal, timestamped lines with an ETA everywhere else.

CI logs, ``nohup`` and pipes get one line per stage and a line at most every ``interval_s`` seconds
(``$SPINAPTIC_PROGRESS_INTERVAL``, default 10 s) during a loop, so a long run never looks hung.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any, TextIO


def _fmt_s(s: float) -> str:
    if s < 90:
        return f"{s:.0f} s"
    if s < 5400:
        return f"{s / 60:.1f} min"
    return f"{s / 3600:.1f} h"


class LineProgress:
    """Iterate ``iterable`` and log ``desc: i/total (p %), elapsed, ETA`` lines to ``stream``."""

    def __init__(self, iterable: Iterable | None, *, total: int | None, desc: str, stream: TextIO,
                 interval_s: float, t_run0: float) -> None:
        self.iterable = iterable if iterable is not None else range(total or 0)
        if total is None:
            try:
                total = len(iterable)  # type: ignore[arg-type]
            except TypeError:
                total = None
        self.total, self.desc, self.stream = total, desc or "progress", stream
        self.interval_s, self.t_run0 = interval_s, t_run0
        self.n = 0
        self._t0 = self._last = None  # set by the first line (iteration start or first update)
        self._created = time.perf_counter()

    def _line(self, t0: float, final: bool = False) -> None:
        el = time.perf_counter() - t0
        run = time.perf_counter() - self.t_run0
        if self.total:
            eta = el / self.n * (self.total - self.n) if self.n else float("nan")
            tail = "done" if final else (f"ETA {_fmt_s(eta)}" if self.n else "ETA ?")
            body = f"{self.n}/{self.total} ({100 * self.n / self.total:.0f} %), {_fmt_s(el)}, {tail}"
        else:
            body = f"{self.n} done, {_fmt_s(el)}"
        print(f"[{_fmt_s(run):>7}] {self.desc}: {body}", file=self.stream, flush=True)

    def _start(self, t0: float | None = None) -> None:
        if self._t0 is None:
            self._t0, self._last = t0 or time.perf_counter(), time.perf_counter()
            self._line(self._t0)

    def _tick(self) -> None:
        now = time.perf_counter()
        if now - self._last >= self.interval_s and (self.total is None or self.n < self.total):
            self._line(self._t0)
            self._last = now

    def __iter__(self) -> Iterator[Any]:
        self._start()
        for item in self.iterable:
            yield item
            self.n += 1
            self._tick()
        self._line(self._t0, final=True)

    def update(self, n: int = 1) -> None:
        """Advance by ``n`` (a manually driven bar, as tqdm's); logs at the same interval as iteration and a
        final line when ``total`` is reached."""
        self.n += n
        if self._t0 is None:  # a manually driven bar counts from its creation
            self._start(self._created)
        if self.total and self.n >= self.total:
            self._line(self._t0, final=True)
        else:
            self._tick()

    def __len__(self) -> int:
        return self.total or 0


class Progress:
    """Factory of progress wrappers for one run (``quiet`` silences everything)."""

    def __init__(self, *, quiet: bool = False, stream: TextIO | None = None) -> None:
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.t0 = time.perf_counter()
        self.interval_s = float(os.environ.get("SPINAPTIC_PROGRESS_INTERVAL", "10"))

    @property
    def tty(self) -> bool:
        return bool(getattr(self.stream, "isatty", lambda: False)())

    def __call__(self, iterable: Iterable | None = None, *, total: int | None = None, desc: str = "") -> Any:
        if self.quiet:
            return iterable if iterable is not None else range(total or 0)
        if self.tty:
            from tqdm.auto import tqdm

            return tqdm(iterable, total=total, desc=desc, leave=False, dynamic_ncols=True, file=self.stream)
        return LineProgress(iterable, total=total, desc=desc, stream=self.stream, interval_s=self.interval_s,
                            t_run0=self.t0)

    def log(self, msg: str) -> None:
        """One line about the run (stage computed or resumed, warnings), unless quiet."""
        if self.quiet:
            return
        if self.tty:
            from tqdm.auto import tqdm

            tqdm.write(msg, file=self.stream)
        else:
            print(f"[{_fmt_s(time.perf_counter() - self.t0):>7}] {msg}", file=self.stream, flush=True)
