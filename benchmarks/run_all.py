"""Run every benchmark script in this folder (bench_*.py) one after another; each writes results/<name>.json.
Then regenerate the README's performance table from those files (`docs/make_perf_table.py`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

here = Path(__file__).resolve().parent
failed = []
for script in sorted(here.glob("bench_*.py")):
    print(f"== {script.name}", flush=True)
    if subprocess.run([sys.executable, str(script)], check=False).returncode != 0:
        failed.append(script.name)
subprocess.run([sys.executable, str(here.parent / "docs" / "make_perf_table.py")], check=False)
if failed:
    sys.exit(f"failed: {', '.join(failed)}")
