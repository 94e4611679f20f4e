"""The Mesa model: four countries play tariffs, sanctions and procurement, one quarter a step.

A quarter goes like this (:meth:`GeopoliticsModel.step`):

1. the scenario's events dated this quarter set policies (embargoes, caps, tariffs on their dates);
2. every country values each move on its menu as a present value over its horizon, rolling the
   world forward with it (all countries' candidate moves, and the replies they anticipate from
   their counterparts, in one batch: :func:`model.ensemble.value_moves`), and picks one by its
   rule (:mod:`agents.country`);
3. the chosen moves apply together;
4. the economy answers (:func:`model.economics.step`): the crude market clears, trade adjusts,
   arms, payments and alignment move;
5. the quarter's metrics and decisions are recorded.

There is one engine: the model is an :class:`~model.ensemble.Ensemble` of one run, and its
quarter is the ensemble's (:meth:`Ensemble.step <model.ensemble.Ensemble.step>`), so a run gives
the same tables alone or in a batch of any size. The model adds what a person at the screen
needs: the Mesa agents (one :class:`~agents.country.CountryAgent` per country, holding its rule
and random stream), human seats, the menu and the advice for the next quarter, and the run's
tables read from the engine's view of its one run (:class:`~model.ensemble.RunView`), reasons
written on request.

The first row of the quarterly table is the calibrated starting state (for ``baseline``,
2025Q4); each step adds the next quarter.
"""
from __future__ import annotations

from pathlib import Path

import mesa
import numpy as np
import pandas as pd

from geogame.agents.country import CountryAgent, Decision, HumanMoveMissing, make_rule
from geogame.agents.moves import Move, available_moves

from . import calibration
from .ensemble import (_CONTEXT, COUNTRIES, _menu_index, DECISION_COLUMNS, ROLLOUT_QUARTERS, Ensemble,  # noqa: F401
                       EnsembleRun, choice_streams, normalise_overrides, resolve, value_moves)
from .alignment import Landscape, alignment_map, landscape
from .calendar import quarter_label
from .instruments import INSTRUMENTS, get_instrument, set_instrument
from .parameters import InputError
from .scenarios import Scenario, load_scenario

# ROLLOUT_QUARTERS (quarters the look-ahead rolls forward exactly) lives with the batched
# look-ahead in model/ensemble.py and is imported above.


class GeopoliticsModel(mesa.Model):
    """The US, Russia, India and the EU, quarter by quarter.

    Parameters
    ----------
    scenario : str, path or Scenario
        A preset name (``geogame scenarios``), the path of a TOML file, or a loaded scenario.
    seed : int, optional
        Seed of the random choices (agents choose stochastically). Same scenario, overrides and
        seed give identical results.
    overrides : dict or list of "key=value", optional
        Settings on top of the scenario (``{"usa.oil_penalty_tariff_on_ind": 0}``), validated.
    rules : dict, optional
        Rule per country, ``"ai"``, ``"best"``, ``"scripted"`` or ``"human"``, on top of the scenario's.

    Attributes
    ----------
    engine : Ensemble
        The engine stepping this run (an ensemble of one run).
    countries : dict
        country -> :class:`~agents.country.CountryAgent`, in ``COUNTRIES`` order.

    Examples
    --------
    >>> m = GeopoliticsModel(scenario="baseline", seed=1)
    >>> m.run(quarters=20)
    >>> m.metrics_frame()[["quarter", "crude_share_ind_from_rus"]].tail(1)  # doctest: +SKIP
    """

    def __init__(self, scenario: str | Path | Scenario = "baseline", seed: int | None = None,
                 overrides: dict | list | None = None, rules: dict | None = None):
        # The same setup as every run of an ensemble: scenario, overrides, seed and rules checked.
        setup = resolve(EnsembleRun(scenario, seed=seed, overrides=overrides, rules=rules))
        super().__init__(rng=setup.seed)
        # Mesa 3.5 runs step() as a scheduled event: if it raised, later steps would silently do
        # nothing. So refuse to step *before* Mesa's wrapper when a person still has to move.
        mesa_step = self.step

        def guarded_step() -> None:
            waiting = self.awaiting_moves()
            if waiting:
                raise HumanMoveMissing(waiting[0])
            mesa_step()

        self.step = guarded_step
        self.seed = setup.seed
        # Mesa 3.5 reserves `Model.scenario` for its experimental Scenario class, hence the name.
        self.scenario_def = setup.scenario
        self.overrides = setup.overrides
        self.settings = setup.settings
        self.engine = Ensemble(None, _setups=[setup])
        if setup.seed is None:   # an unseeded run's choice streams come from Mesa's own generator
            self.engine.rngs[0] = choice_streams(None, fallback=self.rng)
        self.structure = self.engine.structure
        self._run = self.engine.view(0)
        self.countries: dict[str, CountryAgent] = {c: CountryAgent(self, c, self.engine, 0) for c in COUNTRIES}

    # ------------------------------------------------------------------------------- the world
    @property
    def world(self):
        """The run's world now (the engine's, one row): policies set on it take effect from the next step."""
        return self.engine.world

    @world.setter
    def world(self, world) -> None:
        """Replace the run's world (one row) from the next step on."""
        if world.batch != 1:
            raise ValueError(f"a model's world has one row; got {world.batch}")
        self.engine.world = world

    # ------------------------------------------------------------------------------- calendar
    @property
    def quarter(self) -> int:
        """The quarter the current state describes, as a quarter index."""
        return self.world.quarter

    @property
    def quarter_label(self) -> str:
        """The quarter the current state describes (``2025Q4`` at the start of the baseline)."""
        return quarter_label(self.world.quarter)

    @property
    def quarter_label_next(self) -> str:
        """The quarter the next step decides and simulates (``2026Q1`` at the start of the baseline)."""
        return quarter_label(self.world.quarter + 1)

    # ------------------------------------------------------------------------------ the quarter
    def step(self) -> None:
        """Advance one quarter: events, every country's decision, the moves, the economy, the record
        (the engine's quarter, see the module docstring)."""
        self.engine.step()
        self.running = not self.finished  # Mesa's own loops (run_model) stop at the scenario's end

    def run(self, quarters: int | None = None) -> "GeopoliticsModel":
        """Run ``quarters`` steps (default: the scenario's length); returns the model."""
        quarters = self.scenario_def.quarters if quarters is None else quarters
        self.scenario_def.check_run_length(quarters)
        for _ in range(quarters):
            self.step()
        return self

    def evaluate(self, candidates: list[tuple[CountryAgent, list[Move]]],
                 rollout: int = ROLLOUT_QUARTERS, world=None) -> dict[str, tuple]:
        """Value every candidate move of every country in one batched look-ahead.

        A move's value is defined in :func:`model.ensemble.value_moves` (present value of the
        country's utility over its horizon, less its policy-change and audience costs, with the
        counterpart's anticipated best reply).

        How it is computed: :func:`model.ensemble.value_moves`, the engine's own valuation, on
        this run (one world per candidate move of every country and per reply its counterpart
        may make, rolled forward together ``rollout`` quarters, the rest of each horizon in
        closed form; the counterpart's reply is its best).

        Parameters
        ----------
        candidates : (agent, available moves) for each country; countries whose rule needs no
            values (scripted) are skipped.
        rollout : quarters rolled forward exactly before the closed-form tail.
        world : the world to value the moves in (default: the model's current world).

        Returns
        -------
        dict
            country -> ``(values, terms, replies, replier)``: values (n,) in USD bn-equivalent
            (present value over the horizon, not yet relative to holding), the utility terms
            making them up (name -> (n,) array), per move the name of the anticipated reply
            ("" where none was weighed) and the country answering ("" if none).
        """
        wanted = {agent.country: moves for agent, moves in candidates if agent.rule.needs_values and moves}
        return self._value(wanted, rollout, self.world if world is None else world)

    def _value(self, candidates: dict[str, list[Move]], rollout: int, world) -> dict[str, tuple]:
        """:meth:`evaluate` for ``candidates`` (country -> moves), whatever the countries' rules."""
        offers = {}
        for country, moves in candidates.items():
            index = _menu_index(country)
            mask = np.zeros((1, len(index)), dtype=bool)
            mask[0, [index[m.name] for m in moves]] = True
            offers[country] = mask
        answers = {c: self.engine.needs[c].copy() for c in COUNTRIES}
        valued = value_moves(world, self.structure, offers, answers, rollout)
        result: dict[str, tuple] = {}
        for country, moves in candidates.items():
            valuation = valued[country]
            index = _menu_index(country)
            cols = [index[m.name] for m in moves]
            terms = {name: value[0, cols] for name, value in valuation.terms.items()}
            replier = valuation.replier if valuation.replier and valuation.answered[0] else ""
            result[country] = (valuation.values[0, cols], terms, valuation.reply_names(0, cols), replier)
        return result

    def _context(self, country: str) -> str:
        """What the country saw last quarter, in a sentence a student can check on the charts
        (its player file's ``context``); raises ``ValueError`` for a country no player declares."""
        if country not in _CONTEXT:
            raise ValueError(f"unknown country {country!r}; allowed: {', '.join(_CONTEXT)}")
        return _CONTEXT[country](self.latest, self.world, self.structure)

    # ---------------------------------------------------------------------------- human play
    def set_rule(self, country: str, rule: str) -> None:
        """Change how a country decides from now on (``ai``, ``best``, ``scripted`` or ``human``)."""
        if country not in self.countries:
            raise InputError(f"country {country!r} is not known; allowed: {', '.join(COUNTRIES)}")
        self.engine.set_rule(0, country, rule)

    def awaiting_moves(self) -> list[str]:
        """Countries played by a person who have not yet submitted this quarter's move."""
        return [c for _, c in self.engine.awaiting_moves()]

    def _decision_world(self):
        """The world the next quarter's decisions will see: the state now with that quarter's
        scripted events applied (they apply before anyone decides; see :meth:`step`). A copy when
        there are such events: the run itself is not changed."""
        events = self.engine.events_at(0, self.world.quarter + 1)
        if not events:
            return self.world
        world = self.world.copy()
        for event in events:
            for key, value in event.settings.items():
                set_instrument(world, key, value)
        return world

    def submit_move(self, country: str, move: str) -> None:
        """Queue a person's move for ``country`` in the next quarter (it must be on the menu the
        country will have then: after that quarter's scripted events, e.g. an offer made to it)."""
        names = [m.name for m in available_moves(country, self._decision_world())]
        if move not in names:
            raise InputError(f"move {move!r} is not available to {country} in {self.quarter_label_next}; "
                             f"allowed: {', '.join(names)}")
        self.countries[country].submit(move)

    def menu(self, country: str) -> list[Move]:
        """Moves available to ``country`` in the next quarter (after that quarter's scripted events)."""
        return available_moves(country, self._decision_world())

    def advice(self, country: str) -> pd.DataFrame:
        """The model's value of each move on ``country``'s menu for the next quarter, in the world
        its decision will see (after that quarter's scripted events); does not change the run.

        Columns: ``move``, ``label``, ``kind``, ``value`` (USD bn-equivalent against holding,
        present value over the country's horizon, as in the decisions table), ``probability``
        (the chance the country's rule gives the move; the AI's logit for a scripted or human
        player) and ``expected_reply`` (the counterpart's anticipated best reply, "" if none).
        """
        world = self._decision_world()
        moves = available_moves(country, world)
        values, _, replies, _ = self._value({country: moves}, ROLLOUT_QUARTERS, world)[country]
        values = values - values[0]
        rule = self.countries[country].rule
        rule = rule if rule.name in ("ai", "best") else make_rule("ai")
        probability = rule.probabilities(values[None, :], self.structure.p(f"{country}.rationality"))[0]
        return pd.DataFrame({"move": [m.name for m in moves], "label": [m.label for m in moves],
                             "kind": [m.kind for m in moves], "value": values,
                             "probability": probability, "expected_reply": replies})

    # --------------------------------------------------------------------------------- output
    @property
    def finished(self) -> bool:
        """True once the run has reached the end of its scenario (``scenario_def.quarters`` steps)."""
        return self.world.quarter - self.scenario_def.start_quarter >= self.scenario_def.quarters

    @property
    def latest(self) -> dict[str, float]:
        """The latest row of the quarterly table (the state now), ``quarter`` first."""
        return self._run.latest

    @property
    def decisions(self) -> list[Decision]:
        """Every decision so far, oldest first (quarter, then country); reasons written on request."""
        return self._run.decisions

    @property
    def event_log(self) -> list[dict]:
        """The scenario events applied so far: ``quarter``, ``note``, ``settings``, ``source``."""
        return self._run.event_log

    def instruments(self) -> dict[str, float]:
        """The policies in force now, by setting key (``{"eu.price_cap_usd": 47.6, ...}``)."""
        return {key: float(get_instrument(self.world, key)[0]) for key in INSTRUMENTS}

    def trade_matrix(self, quarters_ago: int = 0) -> np.ndarray:
        """Goods flows (not crude or arms), USD bn/yr, ``[importer, exporter]`` in NODES order.

        ``quarters_ago=1`` gives last quarter's matrix (for changes); the start is the oldest kept.
        """
        return self._run.trade_matrix(quarters_ago)

    def blocs(self) -> Landscape:
        """Today's blocs by landscape theory (sizes: GDP; propensities: affinity)."""
        return landscape(self.world.affinity[0], self.structure.absorption_ref_usd_bn[:len(COUNTRIES)])

    def alignment_map(self, previous: np.ndarray | None = None) -> np.ndarray:
        """2-D positions of the four players (rows in COUNTRIES order) by classical MDS."""
        return alignment_map(self.world.affinity[0], previous)

    def metrics_frame(self) -> pd.DataFrame:
        """The quarterly table: one row a quarter, the starting state first."""
        return self._run.metrics_frame()

    def metrics_columns(self) -> dict[str, list]:
        """The quarterly table as columns (name -> list of values), without building a DataFrame."""
        return self._run.metrics_columns()

    def decisions_frame(self) -> pd.DataFrame:
        """Every decision so far: quarter, country, move, value, runner-up, reason and more."""
        return self._run.decisions_frame()

    def events_frame(self) -> pd.DataFrame:
        """The scenario events applied so far."""
        return self._run.events_frame()

    def scenario_toml(self) -> str:
        """A scenario file that reproduces this run's settings (scenario plus overrides)."""
        from .scenario_writer import scenario_with_overrides
        return scenario_with_overrides(self.scenario_def, self.overrides,
                                       {c: a.rule.name for c, a in self.countries.items()})


def check_settings(scenario: str | Path | Scenario = "baseline", overrides: dict | list | None = None) -> None:
    """Raise :class:`InputError` if the scenario and overrides cannot start a run (no agents built).

    Each value is checked against its range, and the combination against the calibrated start
    (for example a Brent too low for the observed discount, or a Russian share of India's crude
    that leaves more barrels than other buyers can run). Cheap: meant for checking every point
    of a sweep design before any run starts.
    """
    scenario = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    values = {**calibration.base_settings(scenario.base), **scenario.settings, **normalise_overrides(overrides)}
    calibration.build(scenario.base, values, scenario.brent_path)
