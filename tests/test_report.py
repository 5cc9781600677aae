"""``spinaptic report``: finds runs and sweeps, counts rows right, shows every figure, escapes every string,
states the command that reproduces a run, regenerates the README gallery, and renders cleanly in Chromium."""

import json
import re
import shutil
import subprocess
import sys
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from spinaptic.report import ReportError, build_report, write_gallery
from spinaptic.report.cli import main as report_main
from spinaptic.report.collect import MAX_SWEEP_ROWS, as_number, difference, find_dirs
from spinaptic.report.render import md_text

EVIL = '<script>alert("x")</script> & <b>bold</b> | pipe'
SMALL = {"n_trials": "100", "n_currents": "4", "macrospin_check": "false"}


def _png(path, colour=(200, 30, 30), size=(40, 30)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)
    return path


def _row(kind, verdict, quantity="q", paper=1.0, ours=1.0, **kw):
    row = {"quantity": quantity, "paper": paper, "ours": ours, "unit": "", "target": "", "verdict": verdict,
           "note": "", "kind": kind, "source": "Fig. 1" if kind in ("paper", "reference") else "", "quote": ""}
    if kind == "paper":
        row["quote"] = "the paper says so"
    row.update(kw)
    return row


def fake_run(d, *, experiment="fake-exp", paper="900", rows=(), figures=("fig_a.png",), title="Fake", **kw):
    """A run directory as run_experiment writes it, with hand-picked rows (for exact counts and hostile text)."""
    d.mkdir(parents=True, exist_ok=True)
    for i, f in enumerate(figures):
        _png(d / f, colour=(40 * i % 255, 90, 160))
    doc = {"experiment": experiment, "title": title, "paper": paper, "preset": "quick", "seed": 3,
           "spinaptic_version": "0.1.0", "source_hash": "abc123", "torch_version": "2.x", "python_version": "3.11",
           "device": "cpu", "backend": "numba", "started": "2026-01-01T00:00:00+00:00", "wall_time_s": 75.0,
           "timings": {}, "resume": {"resumed_stages": []}, "config": {"n": 1, "label": EVIL}, "metrics": {},
           "comparisons": list(rows), "figures": list(figures), "tables": {}, "notes": "", **kw}
    (d / "result.json").write_text(json.dumps(doc))
    return d


def fake_sweep(d, n_rows=60):
    """A sweep directory of the shape `spinaptic sweep` writes: sweep.json, results.csv, plots/*.png."""
    d.mkdir(parents=True)
    (d / "sweep.json").write_text(json.dumps({"name": "tmr-sweep", "experiment": "compound-dbn",
                                              "axes": {"tmr_fixed": [1, 2]}, "note": EVIL}))
    lines = ["tmr_fixed,seed,error"] + [f"{i / 10},{i},{0.5 - i / 1000}" for i in range(n_rows - 1)] + [f'9,9,"{EVIL}"']
    (d / "results.csv").write_text("\n".join(lines) + "\n")
    _png(d / "plots" / "error_vs_tmr.png", colour=(10, 150, 10))
    return d


class _Page(HTMLParser):
    """The parts of index.html the tests check: image sources, script tags, table cells of the summary."""

    def __init__(self):
        super().__init__()
        self.imgs, self.scripts, self.rows, self._row, self._cell, self._in_summary = [], 0, [], [], None, False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.imgs.append(a["src"])
        elif tag == "script":
            self.scripts += 1
        elif tag == "table":
            self._in_summary = a.get("class") == "summary"
        elif tag == "td" and self._in_summary:
            self._cell = ""

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self._row.append(self._cell.strip())
            self._cell = None
        elif tag == "tr" and self._row:
            self.rows.append(self._row)
            self._row = []
        elif tag == "table":
            self._in_summary = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def _page(index):
    p = _Page()
    p.feed(Path(index).read_text())
    return p


@pytest.fixture(scope="module")
def real_runs(tmp_path_factory):
    """Two genuine quick runs (a few seconds): one with --set overrides, one with its preset unchanged."""
    from spinaptic.experiments import run_experiment

    root = tmp_path_factory.mktemp("runs")
    run_experiment("switching-probability", out_dir=root / "sp", quiet=True, overrides=SMALL)
    run_experiment("compound-synapse", out_dir=root / "cs", quiet=True)
    return root


# ----------------------------------------------------------------------------------------- finding inputs
def test_finds_runs_and_sweeps_recursively_and_skips_checkpoints(tmp_path):
    a = fake_run(tmp_path / "all" / "a")
    b = fake_run(tmp_path / "all" / "deeper" / "b")
    fake_run(tmp_path / "all" / "a2" / "checkpoints" / "x")  # never a run
    fake_run(tmp_path / "all" / ".hidden" / "y")
    sw = fake_sweep(tmp_path / "all" / "sweep")
    fake_run(sw / "points" / "p0")  # a sweep's own points are summarised by its table
    runs, sweeps = find_dirs([tmp_path / "all", a, a / "result.json"])
    assert sorted(runs) == sorted([a.resolve(), b.resolve()]) and sweeps == [sw.resolve()]
    with pytest.raises(ReportError, match="not a directory"):
        find_dirs([tmp_path / "nope"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ReportError, match="no result.json or sweep.json"):
        find_dirs([tmp_path / "empty"])


def test_numeric_differences_only_where_both_are_numbers():
    assert as_number("0.21 nJ", "nJ") == 0.21 and as_number("~80 uA", "uA") == 80 and as_number("0.77%", "%") == 0.77
    for text in ("0.21 nJ (one pass)", "+0.07/-0.15", "linear", "0.21 mA"):
        assert as_number(text, "nJ") is None, text
    assert as_number(True) is None and as_number(float("nan")) is None
    assert difference("0.21 nJ", 0.2565, "nJ") == "+0.0465 nJ (rel. +22.1 %)"
    assert difference([1.0, 2.0], [1.5, 1.0]) == "+0.5, -1"
    assert difference("symmetric", 0.01) == "" and difference([1], [1, 2]) == ""


# ----------------------------------------------------------------------------------------- content
def test_summary_counts_rows_per_paper(tmp_path):
    fake_run(tmp_path / "r1", paper="900", rows=[
        _row("paper", "pass"), _row("paper", "pass"), _row("paper", "short"), _row("paper", "info"),
        _row("check", "pass"), _row("check", "short"), _row("reference", "pass"), _row("calibrated", "info")])
    fake_run(tmp_path / "r2", experiment="other-exp", paper="900", rows=[_row("paper", "short"), _row("check", "pass")])
    fake_run(tmp_path / "r3", experiment="third", paper="901", rows=[_row("paper", "pass")])
    index = build_report([tmp_path], tmp_path / "out")
    rows = _page(index).rows
    # paper, experiments, runs, pass, short, total, reference, checks, calibrated
    assert rows == [["900", "fake-exp, other-exp", "2", "2", "2", "5", "1 / 1", "2 / 3", "1"],
                    ["901", "third", "1", "1", "0", "1", "0 / 0", "0 / 0", "0"],
                    ["all", "fake-exp, other-exp, third", "3", "3", "2", "6", "1 / 1", "2 / 3", "1"]]
    md = (tmp_path / "out" / "report.md").read_text()
    assert "| 900 | fake-exp, other-exp | 2 | 2 | 2 | 5 | 1 / 1 | 2 / 3 | 1 |" in md
    assert "| all | fake-exp, other-exp, third | 3 | 3 | 2 | 6 | 1 / 1 | 2 / 3 | 1 |" in md


def test_rows_are_split_by_kind_with_quote_source_and_difference(tmp_path):
    fake_run(tmp_path / "r", rows=[
        _row("paper", "pass", quantity="energy", paper="0.21 nJ", ours=0.2565, unit="nJ", source="Table I",
             quote="0.21 nJ per classification"),
        _row("check", "pass", quantity="mc vs law"), _row("calibrated", "info", quantity="fitted Ic0")])
    build_report([tmp_path / "r"], tmp_path / "out")
    html = (tmp_path / "out" / "index.html").read_text()
    md = (tmp_path / "out" / "report.md").read_text()
    for text in (html, md):
        paper_part, rest = text.split("Not a reproduction of the paper", 1)
        assert "energy" in paper_part and "Table I" in paper_part and "0.21 nJ per classification" in paper_part
        assert "+0.0465 nJ (rel. +22.1 %)" in paper_part and "mc vs law" not in paper_part
        assert "mc vs law" in rest and "fitted Ic0" in rest
        assert "Self-consistency checks" in rest and "Calibrated quantities" in rest
        assert "1 min 15 s" in text and "abc123" in text and "2.x" in text


def test_every_string_is_escaped(tmp_path):
    fake_run(tmp_path / "r", title=EVIL, notes=EVIL, rows=[
        _row("paper", "pass", quantity=EVIL, paper=EVIL, ours=EVIL, note=EVIL, source=EVIL, quote=EVIL),
        _row("check", "short", quantity=EVIL, note=EVIL)], figures=("evil<x>.png",))
    fake_sweep(tmp_path / "sw")
    build_report([tmp_path], tmp_path / "out")
    html = (tmp_path / "out" / "index.html").read_text()
    assert "<script>alert" not in html and "<b>bold" not in html
    assert html.count("&lt;script&gt;alert") >= 8
    assert _page(tmp_path / "out" / "index.html").scripts == 1  # only the page's own image check
    md = (tmp_path / "out" / "report.md").read_text()
    fences = re.findall(r"^(`{3,})(?:json|sh)?\n.*?\n\1$", md, flags=re.M | re.S)
    assert fences  # the config JSON is shown verbatim, inside a fence its content cannot close
    prose = re.sub(r"^(`{3,})(?:json|sh)?\n.*?\n\1$", "", md, flags=re.M | re.S)
    prose = re.sub(r"(?<!`)(`+)(?!`).+?(?<!`)\1(?!`)", "", prose)  # code spans show their text literally
    assert "<script>" not in prose and "<b>" not in prose and "&lt;script&gt;" in prose
    # every table row of the Markdown has exactly as many unescaped cell separators as its header
    tables = re.findall(r"((?:^\|.*\|$\n)+)", md, flags=re.M)
    assert len(tables) >= 4
    for t in tables:
        widths = {len(re.findall(r"(?<!\\)\|", line)) for line in t.strip().splitlines()}
        assert len(widths) == 1, t
    assert md_text("a|b\nc <i>") == "a\\|b c &lt;i&gt;"


def test_every_figure_is_copied_and_shown_and_missing_ones_are_reported(tmp_path):
    fake_run(tmp_path / "a", figures=("one.png", "two.png"))
    fake_run(tmp_path / "b", figures=("one.png", "gone.png", "../../escape.png"))  # same name, missing, outside
    (tmp_path / "b" / "gone.png").unlink()
    _png(tmp_path / "escape.png")
    fake_sweep(tmp_path / "sw")
    seen = []
    index = build_report([tmp_path], tmp_path / "out", on_warning=seen.append)
    imgs = _page(index).imgs
    assert len(imgs) == 4 == len(set(imgs))  # a: 2, b: 1, sweep: 1
    sources = [tmp_path / "a" / "one.png", tmp_path / "a" / "two.png", tmp_path / "b" / "one.png",
               tmp_path / "sw" / "plots" / "error_vs_tmr.png"]
    copies = sorted((index.parent / src).read_bytes() for src in imgs)
    assert copies == sorted(s.read_bytes() for s in sources)
    assert all(src.startswith("figures/") for src in imgs)
    assert len(seen) == 2 and any("gone.png" in w and "missing" in w for w in seen)
    assert any("escape.png" in w and "outside the run directory" in w for w in seen)
    html, md = index.read_text(), (index.parent / "report.md").read_text()
    assert "gone.png" in html and "file missing" in html and "file missing" in md
    assert sorted(re.findall(r"\]\((figures/[^)]+)\)", md)) == sorted(imgs)


def test_sweep_table_and_plots(tmp_path):
    fake_sweep(tmp_path / "sw", n_rows=60)
    build_report([tmp_path / "sw"], tmp_path / "out")
    html = (tmp_path / "out" / "index.html").read_text()
    body = html.split('class="sweep-table"', 1)[1].split("</table>", 1)[0]
    assert body.count("<tr>") == MAX_SWEEP_ROWS + 1 and "<th>tmr_fixed</th>" in body
    assert f"first {MAX_SWEEP_ROWS} of 60 rows" in html and "tmr-sweep" in html
    assert "figures/" in html and "error_vs_tmr.png" in html
    assert f"first {MAX_SWEEP_ROWS} of 60 rows" in (tmp_path / "out" / "report.md").read_text()


def test_reproduce_command_recovers_set_flags(real_runs, tmp_path):
    from spinaptic.experiments.base import _jsonable, get_experiment, resolve_config

    build_report([real_runs], tmp_path / "out")
    html = (tmp_path / "out" / "index.html").read_text()
    cmd = re.search(r"<code>(spinaptic run switching-probability [^<]*)</code>", html).group(1)
    flags = dict(f.split("=", 1) for f in re.findall(r"--set (\S+)", cmd))
    assert cmd.startswith("spinaptic run switching-probability --preset quick --seed 0 --set ")
    assert flags == SMALL
    doc = json.loads((real_runs / "sp" / "result.json").read_text())
    assert _jsonable(resolve_config(get_experiment("switching-probability"), "quick", flags)) == doc["config"]
    assert "<code>spinaptic run compound-synapse --preset quick --seed 0</code>" in html
    section = html.split('id="compound-synapse')[1].split('<section class="run"')[0]
    assert "config (JSON)" not in section and "did not exist when the run was made" not in section


def test_unrecoverable_config_is_shown_as_json(tmp_path):
    fake_run(tmp_path / "r")  # not a registered experiment: no preset to diff against
    build_report([tmp_path / "r"], tmp_path / "out")
    html = (tmp_path / "out" / "index.html").read_text()
    assert "cannot be expressed as --set flags" in html and "unknown experiment" in html
    assert "&#34;label&#34;: &#34;&lt;script&gt;" in html
    assert '"label": "<script>alert' in (tmp_path / "out" / "report.md").read_text()  # inside a code fence


def test_cli(tmp_path, capsys):
    fake_run(tmp_path / "r")
    assert report_main([str(tmp_path / "r"), "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "index.html").is_file() and (tmp_path / "out" / "report.md").is_file()
    assert report_main([str(tmp_path / "missing"), "--out", str(tmp_path / "o2")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("Error:") and "not a directory" in err[-1]
    assert not (tmp_path / "o2").exists()
    code = "import sys, spinaptic.report.cli; print('torch' in sys.modules, 'jinja2' in sys.modules)"
    light = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert light == ["False", "False"]  # `spinaptic report --help` does not pay for torch


def test_templates_ship_as_package_data():
    root = Path(__file__).resolve().parents[1]
    data = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["spinaptic"]
    templates = sorted((root / "src" / "spinaptic" / "report" / "templates").iterdir())
    assert templates
    for t in templates:
        rel = t.relative_to(root / "src" / "spinaptic").as_posix()
        assert any(Path(rel).match(pattern) for pattern in data), f"{rel} is not in package-data {data}"


# ----------------------------------------------------------------------------------------- gallery
README = """# Project\n\nIntro.\n\n## Gallery\n\n<!-- gallery:start -->\nold hand-made table\n<!-- gallery:end -->\n\n## After\n\nKept.\n"""


def test_gallery_rewrites_only_between_markers(tmp_path):
    fake_run(tmp_path / "runs" / "a", experiment="exp-a", paper="900", title="A | title", figures=("f1.png", "f2.png"))
    fake_run(tmp_path / "runs" / "b", experiment="exp-b", paper="901", figures=("g.png",))
    fake_run(tmp_path / "runs" / "c", experiment="exp-c", paper="902", figures=("h.png",))
    readme = tmp_path / "repo" / "README.md"
    readme.parent.mkdir()
    readme.write_text(README)
    files = write_gallery([tmp_path / "runs"], readme, pick={"exp-a": ["f2"], "exp-c": []})
    assert [f.name for f in files] == ["exp-a_f2.png", "exp-b_g.png"]
    assert all(f.parent == readme.parent / "docs" / "gallery" and f.stat().st_size > 0 for f in files)
    text = readme.read_text()
    head, rest = text.split("<!-- gallery:start -->\n")
    section, tail = rest.split("<!-- gallery:end -->")
    assert head == README.split("<!-- gallery:start -->")[0] and tail == "\n\n## After\n\nKept.\n"
    assert "old hand-made" not in section
    assert "| ![exp-a: f2.png](docs/gallery/exp-a_f2.png) A \\| title | ![exp-b: g.png](docs/gallery/exp-b_g.png) Fake |" \
        in section
    write_gallery([tmp_path / "runs"], readme, pick={"exp-a": ["f2"], "exp-c": []})
    assert readme.read_text() == text  # idempotent
    with pytest.raises(ReportError, match="no figure 'nope'"):
        write_gallery([tmp_path / "runs"], readme, pick={"exp-a": ["nope"]})
    bare = tmp_path / "bare.md"
    bare.write_text("# no markers\n")
    with pytest.raises(ReportError, match="gallery:start"):
        write_gallery([tmp_path / "runs"], bare)
    assert bare.read_text() == "# no markers\n"


def test_gallery_keep_adds_a_run_and_leaves_the_others(tmp_path):
    fake_run(tmp_path / "old" / "a", experiment="exp-a", paper="900", title="A | title", figures=("f1.png",))
    fake_run(tmp_path / "old" / "b", experiment="exp-b", paper="901", figures=("g.png",))
    readme = tmp_path / "repo" / "README.md"
    readme.parent.mkdir()
    readme.write_text(README)
    write_gallery([tmp_path / "old"], readme)
    fake_run(tmp_path / "new" / "b", experiment="exp-b", paper="901", title="B new", figures=("g2.png",))
    fake_run(tmp_path / "new" / "d", experiment="exp-d", paper="903", figures=("k.png",))
    files = write_gallery([tmp_path / "new"], readme, keep=True)
    assert [f.name for f in files] == ["exp-b_g2.png", "exp-d_k.png"]
    text = readme.read_text()
    assert "![exp-a: f1.png](docs/gallery/exp-a_f1.png) A \\| title" in text  # kept, escaping intact
    assert "exp-b_g.png" not in text and "![exp-b: g2.png](docs/gallery/exp-b_g2.png) B new" in text
    assert text.index("exp-a_f1") < text.index("exp-b_g2") < text.index("exp-d_k")
    assert "1 of them kept from the previous gallery" in text
    write_gallery([tmp_path / "new"], readme, keep=True)
    assert readme.read_text() == text  # idempotent


# ----------------------------------------------------------------------------------------- browser
def _chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def _load_in_chromium(exe, page, profile):
    """(DOM after load, console lines) of ``page`` opened from file:// in headless Chromium."""
    r = subprocess.run([exe, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                        f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
                        "--virtual-time-budget=5000", "--dump-dom", page.resolve().as_uri()],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    console = [ln for ln in r.stderr.splitlines() if "CONSOLE" in ln or "Uncaught" in ln]
    return r.stdout, console


def _image_check(dom):
    ok = re.search(r'<body[^>]*data-images-ok="([^"]*)"', dom).group(1)
    bad = re.search(r'<body[^>]*data-images-bad="([^"]*)"', dom)
    return ok, bad.group(1) if bad else None


def test_report_renders_in_headless_chromium(real_runs, tmp_path):
    exe = _chromium()
    if exe is None:
        pytest.skip("no Chromium binary (chromium / chromium-browser) on PATH; apt-get install chromium")
    fake_sweep(tmp_path / "sw")
    index = build_report([real_runs, tmp_path / "sw"], tmp_path / "out")
    n_imgs = len(_page(index).imgs)
    figures = [f for d in ("sp", "cs") for f in json.loads((real_runs / d / "result.json").read_text())["figures"]]
    assert n_imgs == len(figures) + 1 >= 3  # the runs' figures and the sweep's plot
    dom, console = _load_in_chromium(exe, index, tmp_path / "profile")
    assert console == [], console
    assert _image_check(dom) == (f"{n_imgs}/{n_imgs}", "")

    # the check itself catches a broken image and a script error
    bad = index.parent / "bad.html"
    bad.write_text(index.read_text().replace('src="figures/', 'src="figures/nope-', 1)
                   .replace("<script>", "<script>undefinedFunction();</script><script>", 1))
    dom, console = _load_in_chromium(exe, bad, tmp_path / "profile")
    assert any("undefinedFunction" in ln for ln in console), console
    assert re.search(r'data-images-bad="figures/nope-', dom), dom[:500]

    shot = tmp_path / "report.png"
    r = subprocess.run([exe, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
                        f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000",
                        "--window-size=1280,2000", f"--screenshot={shot}", index.resolve().as_uri()],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and shot.is_file() and shot.stat().st_size > 10_000, r.stderr[-2000:]
    with Image.open(shot) as im:
        assert im.size == (1280, 2000) and len(set(im.convert("L").resize((64, 100)).tobytes())) > 8
