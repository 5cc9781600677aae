"""Comparison rows say what they are: paper rows quote the paper verbatim, checks are counted apart."""

import pytest

from spinaptic.experiments.comparison import (
    Comparison,
    calibrated_row,
    check_row,
    count_line,
    find_paper_text,
    normalise_text,
    paper_row,
    quote_in_text,
    reference_row,
)

PAPER_IDS = ("000", "001", "002", "003", "004")


def papers_available() -> bool:
    return all(find_paper_text(p) for p in PAPER_IDS)


def assert_rows_honest(doc: dict) -> None:
    """Every row of a result.json has a kind; every paper row names a source and quotes its paper verbatim;
    calibrated rows carry no verdict. Used on every experiment's quick run (tests/test_run_engine.py)."""
    import re

    texts = [t for t in (find_paper_text(p) for p in re.findall(r"\d{3}", doc["paper"])) if t]
    for c in doc["comparisons"]:
        assert c["kind"] in ("paper", "reference", "check", "calibrated") and c["source"], c
        if c["kind"] == "paper":
            assert c["source"] and c["quote"], c
            if texts:
                assert any(quote_in_text(c["quote"], t) for t in texts), (
                    f"{doc['experiment']}: quote of {c['quantity']!r} is not in paper {doc['paper']}: {c['quote']!r}")
        if c["kind"] == "reference":
            assert c["source"], c
        if c["kind"] == "calibrated":
            assert c["verdict"] in ("info", "not-comparable"), c


def test_row_kinds_are_enforced():
    with pytest.raises(ValueError, match="needs a source"):
        Comparison("x", 1, 1, kind="paper")
    with pytest.raises(ValueError, match="kind 'guess'"):
        Comparison("x", 1, 1, kind="guess")
    with pytest.raises(ValueError, match="cannot carry verdict"):
        Comparison("x", 1, 1, verdict="pass", kind="calibrated")
    with pytest.raises(ValueError, match="only paper rows quote"):
        Comparison("x", 1, 1, kind="check", quote="abc")
    with pytest.raises(ValueError, match="needs a source"):
        Comparison("x", 1, 1, kind="reference")


def test_constructors_and_count_line():
    rows = [
        paper_row("a", "95 %", 96.0, True, source="Fig. 6b", quote="95% accuracy"),
        paper_row("b", "3.5 V", 5.2, False, source="Fig. 2", quote="3.5 V", target="+- 0.3 V"),
        reference_row("c", 82.9, 83.0, True, source="Diehl & Cook 2015"),
        check_row("d", 1.0, 1.0, True),
        check_row("e", 1.0, 2.0, False, gap="off by 1"),
        calibrated_row("f", "6.25 mA", 6.25),
    ]
    assert rows[1].verdict == "short" and "ours 5.2 vs target +- 0.3 V" in rows[1].note
    assert rows[4].note == "off by 1"
    assert rows[3].source.startswith("self-consistency") and rows[5].source == "calibration"
    assert count_line(rows) == "paper: 1 pass, 1 short · reference: 1 pass · checks: 1 pass, 1 short · calibrated: 1"
    assert count_line([]) == "no comparisons"


def test_quote_matching_normalises_only_typography():
    text = "The accuracy reaches 95 % at a stream\nlength of 1024 bits \u2013 using 6 MTJs."
    assert quote_in_text("stream length of 1024 bits - using", text)
    assert quote_in_text("ACCURACY reaches 95 %", text)
    assert not quote_in_text("accuracy reaches 96 %", text)
    assert normalise_text("a\u00adb  \u201cc\u201d") == 'ab "c"'


@pytest.mark.skipif(not papers_available(), reason="shared/papers not found beside the repository")
def test_the_papers_are_found():
    for p in PAPER_IDS:
        assert len(find_paper_text(p)) > 10_000
