"""The quarterly table is exactly its declared outcomes (model/outcomes.py), and values keep their ranges."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from geogame import OUTCOMES, GeopoliticsModel, outcome_names
from geogame.model.outcomes import Outcome, describe, outcome

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def runs():
    """A baseline run and a hindcast run (a war, embargoes and caps on their dates), a few years each."""
    baseline = GeopoliticsModel("baseline", seed=3).run(12).metrics_frame()
    hindcast = GeopoliticsModel("hindcast", seed=3).run(16).metrics_frame()
    return {"baseline": baseline, "hindcast": hindcast}


def test_the_columns_are_the_declared_outcomes_in_order(runs):
    for name, frame in runs.items():
        columns = list(frame.columns)
        undeclared = [c for c in columns if c not in outcome_names()]
        missing = [c for c in outcome_names() if c not in columns]
        assert not undeclared, f"{name}: columns without a declaration in model/outcomes.py: {undeclared}"
        assert not missing, f"{name}: declared outcomes the table lacks: {missing}"
        assert columns == outcome_names(), f"{name}: columns in another order than declared"


def test_every_value_lies_in_its_declared_range(runs):
    for name, frame in runs.items():
        for o in OUTCOMES:
            bad = o.out_of_range(frame[o.name].to_numpy())
            assert not bad.any(), (f"{name}: {o.name} out of its range {o.range_text}: "
                                   f"{frame.loc[bad, ['quarter', o.name]].to_dict('records')[:3]}")


def test_declarations_are_complete():
    assert len(set(outcome_names())) == len(OUTCOMES)
    for o in OUTCOMES:
        assert o.name.isidentifier() and o.name == o.name.lower(), o.name
        assert o.unit.strip() and o.description.strip() and o.computed.strip(), o.name
        if o.low is not None and o.high is not None:
            assert o.low < o.high, o.name
    assert outcome_names(numeric=True) == [o.name for o in OUTCOMES if o.kind != "label"]
    assert "quarter" not in outcome_names(numeric=True)


def test_ranges_catch_values_outside_them():
    share = outcome("crude_share_ind_from_rus")
    assert list(share.out_of_range([0.0, 0.5, 1.0, 1.01, -0.01, np.nan])) == [False] * 3 + [True] * 3
    align = outcome("alignment_usa_ind")
    assert align.range_text == "(-1, 1)"
    assert list(align.out_of_range([-0.99, 0.99, 1.0, -1.0])) == [False, False, True, True]
    flag = outcome("oil_penalty_in_force")
    assert list(flag.out_of_range([0.0, 1.0, 0.5])) == [False, False, True]
    assert not outcome("quarter").out_of_range(np.array(["2025Q4"])).any()
    assert outcome("brent_usd").range_text == ">= 0"
    with pytest.raises(ValueError, match="kind"):
        Outcome("x", "u", "d", "c", kind="text")


def test_an_unknown_outcome_suggests_the_nearest():
    with pytest.raises(KeyError, match="crude_share_ind_from_rus"):
        outcome("crude_share_ind_from_russia")
    assert describe("crude_share_ind_from_rus").endswith("(fraction, [0, 1])")


def test_the_outcome_table_is_fresh():
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_outcome_table.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_outcome_table_check_detects_a_stale_file(tmp_path):
    spec = importlib.util.spec_from_file_location("make_outcome_table", ROOT / "scripts" / "make_outcome_table.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    doc = tmp_path / "outcomes.md"
    assert script.main(["--check", "--doc", str(doc)]) == 1           # missing
    assert script.main(["--write", "--doc", str(doc)]) == 0
    assert script.main(["--check", "--doc", str(doc)]) == 0
    doc.write_text(doc.read_text().replace("`brent_usd`", "`brent`"))
    assert script.main(["--check", "--doc", str(doc)]) == 1           # edited by hand
