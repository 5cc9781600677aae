"""`spinaptic data`: where each dataset and lookup table was found, non-zero exit on a non-canonical copy."""

import gzip
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from spinaptic.cli import main

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.mark.skipif(not (SHARED / "mnist").is_dir(), reason="shared MNIST not found")
def test_data_exits_nonzero_on_a_checksum_mismatch(tmp_path, monkeypatch):
    monkeypatch.delenv("SPINAPTIC_DATA", raising=False)
    monkeypatch.setenv("SPINAPTIC_OFFLINE", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    good = CliRunner().invoke(main, ["data", "--data-dir", str(SHARED)])
    assert good.exit_code == 0, good.output
    assert "mnist            ok" in good.output and "not the canonical CIFAR-10" in good.output
    assert "dwmtj_stt_300K" in good.output

    mnist = tmp_path / "mnist"
    shutil.copytree(SHARED / "mnist", mnist)
    f = next(p for p in mnist.iterdir() if p.name.startswith("t10k-labels"))
    raw = bytearray(gzip.decompress(f.read_bytes()))
    raw[-1] = (raw[-1] + 1) % 10  # one label changed: still a valid IDX file, not the canonical one
    f.write_bytes(gzip.compress(bytes(raw)))
    bad = CliRunner().invoke(main, ["data", "--data-dir", str(tmp_path)])
    assert bad.exit_code == 1
    assert "mnist            mismatch" in bad.output
    assert "Error: checksum mismatch for mnist" in bad.stderr
    js = CliRunner().invoke(main, ["data", "--data-dir", str(tmp_path), "--json"])
    doc = json.loads(js.stdout)
    assert js.exit_code == 1 and {"datasets", "lookup_tables"} <= set(doc)
