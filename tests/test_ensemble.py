"""The ensemble engine (model/ensemble.py): one engine, and a run's tables do not depend on its batch.

The Mesa model is an ensemble of one run (its step is :meth:`Ensemble.step`, its choices the
rules' row-wise :meth:`Rule.choose`). Same scenario, settings, rules and seed give the same
quarterly and decisions tables (reasons included) whether the run is the Mesa model's, or one of
an ensemble of 1, 7 or 256 runs that mixes seeds, settings, rules (scripted, best response) and
scenarios: the equality fails if batching leaks into a run.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geogame.model import EnsembleRun, GeopoliticsModel, InputError, run_ensemble
from geogame.model.ensemble import Ensemble, iter_ensemble

QUARTERS = 10


def _mesa(spec: EnsembleRun, quarters: int = QUARTERS) -> GeopoliticsModel:
    return GeopoliticsModel(spec.scenario, seed=spec.seed, overrides=spec.overrides, rules=spec.rules).run(quarters)


def _same_tables(view, model) -> None:
    pd.testing.assert_frame_equal(view.metrics_frame(), model.metrics_frame(), check_exact=True)
    pd.testing.assert_frame_equal(view.decisions_frame(), model.decisions_frame(), check_exact=True)
    assert view.metrics_columns() == model.metrics_columns()


#: Runs that differ by seed, settings, rules and scenario; some share a state for a while.
MIXED = [
    EnsembleRun("baseline", seed=11),
    EnsembleRun("baseline", seed=12, rules={"usa": "scripted"}),
    EnsembleRun("baseline", seed=13, rules={"eu": "best", "rus": "scripted"}),
    EnsembleRun("baseline", seed=11, overrides={"eu.price_cap_usd": 40}),
    EnsembleRun("us_deal", seed=14),
    EnsembleRun("hindcast", seed=15),
    EnsembleRun("baseline", seed=11, rules={"ind": "scripted"}),
]


def test_a_mixed_batch_gives_each_run_its_mesa_tables():
    views = run_ensemble(MIXED, 16)   # the hindcast's last event is 13 quarters in
    for spec, view in zip(MIXED, views):
        _same_tables(view, _mesa(spec, 16))


@pytest.mark.parametrize("size", [1, 7, 256])
def test_a_run_does_not_depend_on_its_batch_size(size):
    """Run 3 of a batch of ``size`` seeds (plus a scripted US and other settings mixed in) is the Mesa run."""
    seeds = list(range(size))
    specs = [EnsembleRun("baseline", seed=s, rules={"usa": "scripted"} if s % 5 == 4 else None) for s in seeds]
    views = run_ensemble(specs, QUARTERS, chunk_size=256)
    probe = [0, min(3, size - 1), size - 1]
    for r in sorted(set(probe)):
        _same_tables(views[r], _mesa(specs[r]))
    # and every run of the batch equals the same run in another batch (sizes 1 and 7)
    alone = run_ensemble([specs[-1]], QUARTERS)[0]
    _same_tables(views[-1], alone)


def test_chunks_do_not_change_results():
    specs = [EnsembleRun("baseline", seed=s) for s in range(9)]
    whole = run_ensemble(specs, 6, chunk_size=9)
    chunked = run_ensemble(specs, 6, chunk_size=2)
    for a, b in zip(whole, chunked):
        pd.testing.assert_frame_equal(a.metrics_frame(), b.metrics_frame(), check_exact=True)
        pd.testing.assert_frame_equal(a.decisions_frame(), b.decisions_frame(), check_exact=True)


def test_runs_in_the_same_state_share_a_valuation_but_not_their_luck():
    """Seeds differ, so runs part ways; a best-response run is the same for every seed."""
    views = run_ensemble([EnsembleRun("baseline", seed=s, rules={c: "best" for c in ("usa", "rus", "ind", "eu")})
                          for s in (1, 2)] + [EnsembleRun("baseline", seed=s) for s in (1, 2)], 8)
    pd.testing.assert_frame_equal(views[0].metrics_frame(), views[1].metrics_frame(), check_exact=True)
    assert not views[2].decisions_frame()["move"].equals(views[3].decisions_frame()["move"])


def test_reasons_are_written_on_request_and_match_the_mesa_model():
    spec = EnsembleRun("baseline", seed=5)
    view = run_ensemble([spec, EnsembleRun("baseline", seed=6)], 4)[0]
    decision = view.decisions[-1]
    assert "reason" not in decision.__dict__          # not written until asked for
    model = _mesa(spec, 4)
    assert decision.reason == model.decisions[-1].reason
    assert decision.reason.startswith("European Union") and "Context:" in decision.reason


def test_human_seats_play_inside_an_ensemble():
    ens = Ensemble([EnsembleRun("baseline", seed=1, rules={"ind": "human"}), EnsembleRun("baseline", seed=1)])
    from geogame.model import HumanMoveMissing

    assert ens.awaiting_moves() == [(0, "ind")]
    with pytest.raises(HumanMoveMissing):
        ens.step()
    ens.submit_move(0, "ind", "arms_tilt_west")   # the refused step drew nothing: same luck as before
    ens.step()
    model = GeopoliticsModel("baseline", seed=1, rules={"ind": "human"})
    model.submit_move("ind", "arms_tilt_west")
    model.step()
    _same_tables(ens.view(0), model)
    assert ens.view(0).decisions_frame().query("country == 'ind'")["move"].item() == "arms_tilt_west"


def test_there_is_one_engine_the_model_steps_the_ensemble_and_its_rules(monkeypatch):
    """The Mesa model's quarter is Ensemble.step, and its choice is the rules' row-wise choose:
    change the best-response rule (here: to pick the worst move) and the model follows."""
    from geogame.agents.country import BestResponse

    steps = []
    real_step = Ensemble.step

    def counting(self):
        steps.append(self.R)
        real_step(self)

    monkeypatch.setattr(Ensemble, "step", counting)
    best = {c: "best" for c in ("usa", "rus", "ind", "eu")}
    model = GeopoliticsModel("baseline", seed=1, rules=best).run(3)
    assert steps == [1, 1, 1]
    assert not hasattr(model, "_decide") and not hasattr(model, "_record")
    normal = model.decisions_frame()
    assert (normal.move == normal.best_move).all()

    def worst(self, values, rationality, uniforms, submitted):
        return np.argmin(values, axis=1), np.ones(len(values))

    monkeypatch.setattr(BestResponse, "choose", worst)
    model = GeopoliticsModel("baseline", seed=1, rules=best).run(3)
    d = model.decisions_frame()
    lowest = [min(dec.values, key=dec.values.get) for dec in model.decisions]   # what `worst` picks
    assert d.move.tolist() == lowest and not d.move.equals(normal.move)
    _same_tables(run_ensemble([EnsembleRun("baseline", seed=1, rules=best), EnsembleRun("baseline", seed=2)], 3)[0],
                 GeopoliticsModel("baseline", seed=1, rules=best).run(3))


def test_the_model_s_agents_are_seats_of_the_engine():
    """A rule set on the model (or on its agent) is the engine's, long names included; a person's
    move waits in the engine's queue; the agents read the engine's random streams."""
    model = GeopoliticsModel("baseline", seed=4)
    model.set_rule("usa", "scripted")
    assert model.engine.rules["usa"][0] == "scripted" and model.countries["usa"].rule.name == "scripted"
    model.countries["eu"].rule = "human"
    assert model.awaiting_moves() == ["eu"] and model.engine.awaiting_moves() == [(0, "eu")]
    model.submit_move("eu", "hold")
    assert model.countries["eu"].pending == "hold" and model.awaiting_moves() == []
    assert model.countries["ind"].choice_rng is model.engine.rngs[0]["ind"]
    model.step()
    assert [d.country for d in model.countries["eu"].decisions] == ["eu"]
    assert model.countries["eu"].decisions[0].rule == "human"
    assert model.trade_matrix(1).tolist() == model.engine.view(0).trade_matrix(1).tolist()
    with pytest.raises(InputError, match="not played by a person"):
        model.countries["ind"].submit("hold")


def test_metric_arrays_are_runs_side_by_side():
    ens = Ensemble([EnsembleRun("baseline", seed=s) for s in range(3)]).run(5)
    arrays = ens.metric_arrays()
    assert arrays["brent_usd"].shape == (6, 3)
    assert np.all(np.isfinite(arrays["brent_usd"]))
    assert ens.view(2).metrics_columns()["brent_usd"] == arrays["brent_usd"][:, 2].tolist()


def test_bad_input_is_one_clear_line():
    with pytest.raises(InputError, match="chunk_size"):
        list(iter_ensemble([EnsembleRun("baseline", seed=1)], 2, chunk_size=0))
    with pytest.raises(InputError, match="seed"):
        run_ensemble([EnsembleRun("baseline", seed=-1)], 2)
    with pytest.raises(InputError, match="rules"):
        run_ensemble([EnsembleRun("baseline", seed=1, rules={"xx": "ai"})], 2)
    with pytest.raises(InputError, match="share"):
        Ensemble([EnsembleRun("baseline", seed=1), EnsembleRun("hindcast", seed=1)])


def test_runs_that_differ_only_in_policy_share_one_batch():
    """A policy setting (an instrument) is a value per run in the world's arrays: such runs batch together."""
    specs = [EnsembleRun("baseline", seed=s, overrides={"eu.price_cap_usd": cap, "usa.oil_penalty_tariff_on_ind": pen})
             for s, (cap, pen) in enumerate([(40, 0.0), (60, 0.25), (47.6, 0.5), (30, 0.25)])]
    ens = Ensemble(specs).run(QUARTERS)        # one batch, one structure
    for r, spec in enumerate(specs):
        _same_tables(ens.view(r), _mesa(spec))


def test_runs_that_differ_in_their_players_decision_settings_share_one_batch(batch_sizes):
    """A country's rationality, utility weights, audience cost and horizon are each run's own (read
    where its AI chooses and where its moves are valued): runs that differ in them, and in policy, batch together and
    each is its Mesa run, values, probabilities and reasons included."""
    weights = [{}, {"ind.weight_autonomy": 0.0, "usa.audience_cost_usd_bn": 0.0},
               {"usa.weight_rus_revenue": 0.6, "eu.weight_alignment_ind": 40.0, "ind.audience_cost_usd_bn": 20.0},
               {"ind.weight_alignment": 60.0, "rus.weight_rupee_balance": 0.5, "usa.lookahead_quarters": 4},
               {"usa.weight_oil_price": 0.0, "ind.lookahead_quarters": 16, "eu.lookahead_quarters": 1}]
    specs = [EnsembleRun("baseline", seed=s, overrides={"ind.rationality": r, "usa.rationality": 50.0 - r,
                                                         "eu.price_cap_usd": 40.0 + s, **weights[s]})
             for s, r in enumerate([0.5, 15.0, 40.0, 3.0, 0.0])]
    ens = Ensemble(specs).run(QUARTERS)        # one batch, one structure
    for r, spec in enumerate(specs):
        model = _mesa(spec)
        _same_tables(ens.view(r), model)
        assert ens.view(r).structure.p("ind.rationality") == model.structure.p("ind.rationality")
    india = [ens.view(r).decisions_frame().query("country == 'ind' and rule == 'ai'") for r in (0, 2)]
    assert india[0].probability.mean() < india[1].probability.mean()   # the settings did act
    batch_sizes.clear()
    views = run_ensemble(specs, QUARTERS, chunk_size=7)
    assert batch_sizes == [len(specs)]
    for r, spec in enumerate(specs):
        _same_tables(views[r], ens.view(r))
    # two runs in the same state but for a weight value their moves apart (no shared valuation)
    twins = [EnsembleRun("baseline", seed=1), EnsembleRun("baseline", seed=1, overrides={"ind.weight_autonomy": 0.0})]
    pair = Ensemble(twins).run(2)
    for r, spec in enumerate(twins):
        _same_tables(pair.view(r), _mesa(spec, 2))
    values = [next(d for d in pair.view(r).decisions if d.country == "ind").values for r in (0, 1)]
    assert values[0] != values[1]


def _economy_overrides(rng: np.random.Generator, share: float = 0.5, spread: float = 0.2) -> dict:
    """About ``share`` of the economy's settings (those a batch does not share) moved by up to
    ``spread`` of their value, within their allowed range."""
    from geogame.model.calibration import base_settings
    from geogame.model.ensemble import per_run_settings
    from geogame.model.parameters import SETTINGS

    base, held = base_settings("dec2025"), per_run_settings()
    out = {}
    for key, spec in SETTINGS.items():
        if key in held or rng.random() > share:
            continue
        if spec.integer:
            out[key] = int(np.clip(base[key] + rng.integers(-1, 2), spec.low, spec.high))
        else:
            value = base[key] * rng.uniform(1 - spread, 1 + spread) if base[key] else spec.low + 0.1 * (spec.high - spec.low)
            if key == "rus.crude_exports_mbd":   # more than the start's buyers can take cannot start
                value = min(value, base[key])
            out[key] = float(np.clip(value, spec.low, spec.high))
    return out


def test_runs_that_differ_in_the_economy_s_settings_share_one_batch():
    """Runs whose settings of the economy differ (elasticities, supplies, adjustment speeds: the
    structure the compiled step and the valuation read) step together with structures of their
    own: every run is its Mesa run. Each run moves about half of the economy's settings at random;
    among them, twins in the same state but for one setting (the trade elasticity; 1.0 makes the
    exponent -1, which NumPy computes by a faster route when it is one number), and runs with
    policies, decision settings and rules of their own."""
    rng = np.random.default_rng(7)
    specs = [EnsembleRun("baseline", seed=s, overrides=_economy_overrides(rng)) for s in range(6)]
    specs += [EnsembleRun("baseline", seed=2),
              EnsembleRun("baseline", seed=2, overrides={"world.trade_elasticity": 1.0}),
              EnsembleRun("baseline", seed=2, overrides={"world.trade_elasticity": 1.0, "world.trade_adjustment": 0.5}),
              EnsembleRun("baseline", seed=3, rules={"usa": "scripted", "eu": "best"},
                          overrides={"world.alignment_anchor_pull": 0.0, "world.arms_adjustment": 0.3,
                                     "ind.lookahead_quarters": 20, "eu.price_cap_usd": 40.0,
                                     "ind.weight_autonomy": 0.0, "world.oil_supply_response": 0.5,
                                     "world.decision_discount": 0.9, "usa.lookahead_quarters": 6})]
    ens = Ensemble(specs)
    groups = ens.structure.groups
    assert len(groups) == len(specs)   # every run its own structure, in one batch
    ens.run(QUARTERS)
    for r, spec in enumerate(specs):
        _same_tables(ens.view(r), _mesa(spec))
    # and each step of the batch is one call of the compiled step over every world (a quarter:
    # the look-ahead's roll-forward and the quarter itself), not a call per structure
    import unittest.mock

    from geogame.model import step_kernel
    from geogame.model.ensemble import ROLLOUT_QUARTERS
    compiled = step_kernel.step_rows
    calls = []
    with unittest.mock.patch.object(step_kernel, "step_rows", side_effect=lambda *a: calls.append(1) or compiled(*a)):
        ens.step()
    assert len(calls) == ROLLOUT_QUARTERS + 1


def test_runs_with_their_own_economy_batch_together_in_sweeps_and_chunks(batch_sizes):
    """run_ensemble batches runs that differ in the economy's settings together (one batch per chunk)."""
    rng = np.random.default_rng(3)
    specs = [EnsembleRun("baseline", seed=s, overrides=_economy_overrides(rng, 0.3, 0.1)) for s in range(5)]
    views = run_ensemble(specs, 4, chunk_size=3)
    assert batch_sizes == [3, 2]
    for spec, view in zip(specs, views):
        _same_tables(view, _mesa(spec, 4))


def test_the_fan_is_the_quantiles_of_the_seeds_runs():
    from geogame.model import fan

    frame = fan("baseline", seeds=5, quarters=3, metrics=("brent_usd",), band=(0.0, 1.0), first_seed=20)
    runs = [GeopoliticsModel("baseline", seed=s).run(3).metrics_frame()["brent_usd"] for s in range(20, 25)]
    stacked = np.array(runs)
    assert frame["quarter"].tolist() == GeopoliticsModel("baseline", seed=1).run(3).metrics_frame()["quarter"].tolist()
    np.testing.assert_array_equal(frame["median"], np.median(stacked, axis=0))
    np.testing.assert_array_equal(frame["low"], stacked.min(axis=0))
    np.testing.assert_array_equal(frame["high"], stacked.max(axis=0))
    assert (frame["runs"] == 5).all()
    with pytest.raises(InputError, match="seeds"):
        fan("baseline", seeds=0)
    with pytest.raises(InputError, match="not known"):
        fan("baseline", seeds=2, quarters=1, metrics=("nope",))


def test_the_fan_panels_draw_a_band_a_median_and_the_run():
    from geogame.model import fan
    from geogame.viz.fan import fan_svgs

    frame = fan("baseline", seeds=4, quarters=3)
    run = GeopoliticsModel("baseline", seed=1).run(2).metrics_frame()
    svgs = fan_svgs(frame, run)
    assert len(svgs) == frame["metric"].nunique() == 6
    assert all("<polygon" in s and s.count("<polyline") == 2 for s in svgs)


def test_a_sweep_with_the_ensemble_as_chunk_function_gives_the_same_table(tmp_path):
    """The sweep runner's chunk_function contract: same tables as run by run, written per run."""
    from geogame.experiments import sweep
    from geogame.model import ensemble_chunk

    kwargs = dict(scenario="baseline", quarters=4, grid={"eu.price_cap_usd": [40, 60]}, replicates=3, seed=7,
                  rules={"rus": "scripted"}, backend="serial", decisions=True)
    plain = sweep(**kwargs)
    batched = sweep(**kwargs, chunk_size=4, chunk_function=ensemble_chunk, out=tmp_path / "s")
    key = ["run_id", "quarter_index"]
    pd.testing.assert_frame_equal(plain.sort_values(key).reset_index(drop=True),
                                  batched.sort_values(key).reset_index(drop=True), check_exact=True)


def test_a_run_that_cannot_start_fails_alone_in_a_chunk():
    from types import SimpleNamespace

    from geogame.model import ensemble_chunk, load_scenario

    job = SimpleNamespace(scenario=load_scenario("baseline"), quarters=2, overrides={}, rules={})
    specs = [SimpleNamespace(seed=1, params={}), SimpleNamespace(seed=2, params={"eu.price_cap_usd": -5.0}),
             SimpleNamespace(seed=3, params={})]
    out = list(ensemble_chunk(specs, job))
    assert len(out) == 3
    failed = [spec.seed for spec, outcome in out if isinstance(outcome, Exception)]
    assert failed == [2]
    ok = {spec.seed: outcome for spec, outcome in out if not isinstance(outcome, Exception)}
    assert ok[3].metrics_columns() == GeopoliticsModel("baseline", seed=3).run(2).metrics_columns()


def test_the_fan_view_renders_behind_the_run(monkeypatch):
    """The Solara component: a fan per headline metric, computed once per scenario and settings."""
    import solara

    import geogame.viz.fan as fan_module

    calls = []
    real = fan_module.fan

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(fan_module, "fan", counting)
    model = GeopoliticsModel("baseline", seed=1).run(3)
    frames = [model.metrics_frame(), model.run(1).metrics_frame()]   # the run, then a step later
    shown = solara.reactive(0)

    @solara.component
    def Page():
        fan_module.FanView("baseline", {}, frames[shown.value], seeds=8, quarters=4)

    box, rc = solara.render(Page(), handle_error=False)
    try:
        from solara.widgets.widgets import HTML

        def panels():
            return [w.unsafe_innerHTML for w in rc.find(HTML).widgets if "<svg" in w.unsafe_innerHTML]

        assert calls == [1]
        first = panels()
        assert len(first) == 6
        assert all("<polygon" in svg and svg.count("<polyline") == 2 for svg in first)
        shown.value = 1              # a step: the run's line grows, the fan is not computed again
        assert panels() != first and calls == [1]
    finally:
        rc.close()


def test_the_reference_step_of_a_mixed_batch_is_each_group_s(monkeypatch):
    """With the NumPy reference (``GEOGAME_REFERENCE_STEP=1``), a batch of runs with economies of
    their own steps each group with its own structure: the same worlds as the compiled step, to
    the reference's tolerance."""
    from geogame.model import economics

    rng = np.random.default_rng(5)
    ens = Ensemble([EnsembleRun("baseline", seed=s, overrides=_economy_overrides(rng)) for s in range(4)])
    ens.run(2)
    world, s = ens.world, ens.structure
    assert s.group is not None
    fast, slow = economics.step(world, s, compiled=True), economics.step(world, s, compiled=False)
    assert slow.quarter == fast.quarter == world.quarter + 1
    for name, value in vars(fast).items():
        if isinstance(value, np.ndarray):
            np.testing.assert_allclose(getattr(slow, name), value, rtol=1e-9, atol=1e-12, err_msg=name)
    monkeypatch.setattr(economics, "USE_COMPILED_STEP", False)
    ens.step()                                # the whole engine on the reference runs
    assert np.all(np.isfinite(ens.metric_arrays()["brent_usd"]))
