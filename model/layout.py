"""The world's layout: which nodes there are, who buys the seller's crude, who supplies arms.

The economics knows no country by name. It knows *roles*: the crude seller whose barrels the
others buy, sanction and cap (Russia today), the arms buyer at the centre of the game (India),
the penaliser who can put an oil penalty and seller listings on that buyer (the US), the cap
setter who sets the price cap and the product ban (the EU), and the sanctioners whose goods
sanctions on the seller withdraw Western shipping services (the US and the EU). A
:class:`Layout` says which node plays which role and in which order the arrays list the nodes,
the crude buyers and the arms suppliers.

The layout is built from the declared players (``geogame.agents.players``: each player file
declares its roles) and *installed* by the player registry when ``geogame`` is imported
(:func:`install`); :func:`geogame.model.calibration.build` puts it on the
:class:`~geogame.model.world.Structure` and the :class:`~geogame.model.world.World` it makes, and
every function of the economics reads it from there. Nothing in ``model/`` imports the players.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

#: Code of the passive rest of the world (always the last node).
REST = "row"
#: Code of a buyer's own arms industry (always the last arms supplier).
DOMESTIC = "domestic"
#: The roles a player may declare, and what a role means to the economics.
ROLES = {
    "crude_seller": "sells the crude the others buy, sanction and cap (one player)",
    "arms_buyer": "buys arms from the arms suppliers; the buyer courted and coerced over its crude (one player)",
    "penaliser": "sets the oil penalty on the arms buyer, lists the seller's sellers, offers deals (one player)",
    "cap_setter": "sets the price cap, the product ban and secondary measures on the arms buyer (one player)",
    "sanctioner": "its goods sanctions on the seller withdraw shipping services (any number)",
    "crude_buyer": "buys crude on the world market, some of it from the seller (any number)",
}
#: Roles exactly one player must hold.
SINGLE_ROLES = ("crude_seller", "arms_buyer", "penaliser", "cap_setter")


class LayoutError(ValueError):
    """The declared players do not make a world (a role missing or held twice, a code repeated)."""


@dataclass(frozen=True)
class Layout:
    """Nodes, buyers, suppliers and roles of the world, in array order.

    Parameters
    ----------
    players : tuple of str
        Player codes in array order (the alignment columns follow it).
    names : dict
        Display name of each player code (and of :data:`REST`).
    roles : dict
        Role -> tuple of the player codes holding it (see :data:`ROLES`).
    arms_suppliers : tuple of str
        The arms buyer's suppliers in array order, :data:`DOMESTIC` last.
    """

    players: tuple[str, ...]
    names: dict = field(compare=False)
    roles: dict = field(compare=False)
    arms_suppliers: tuple[str, ...]

    def __post_init__(self):
        if len(set(self.players)) != len(self.players) or REST in self.players:
            raise LayoutError(f"player codes must be distinct and not {REST!r}: {self.players}")
        for role in SINGLE_ROLES:
            holders = self.roles.get(role, ())
            if len(holders) != 1:
                raise LayoutError(f"role {role!r} must be held by exactly one player; held by {list(holders)}")
        unknown = set(self.roles) - set(ROLES)
        if unknown:
            raise LayoutError(f"unknown role {sorted(unknown)[0]!r}; allowed: {', '.join(ROLES)}")
        if not self.arms_suppliers or self.arms_suppliers[-1] != DOMESTIC:
            raise LayoutError(f"the arms suppliers must end with {DOMESTIC!r}: {self.arms_suppliers}")

    # ----------------------------------------------------------------------- lists in array order
    @cached_property
    def nodes(self) -> tuple[str, ...]:
        """All nodes: the players, then the rest of the world."""
        return self.players + (REST,)

    @cached_property
    def crude_buyers(self) -> tuple[str, ...]:
        """Buyers of the seller's crude in array order: players holding ``crude_buyer``, then the rest."""
        return tuple(p for p in self.players if p in self.roles.get("crude_buyer", ())) + (REST,)

    @cached_property
    def pairs(self) -> tuple[tuple[int, int], ...]:
        """Pairs of players ``(i, j)``, ``i < j``, in the order of the alignment columns."""
        n = len(self.players)
        return tuple((i, j) for i in range(n) for j in range(i + 1, n))

    def role(self, role: str) -> str:
        """The code of the one player holding ``role`` (see :data:`SINGLE_ROLES`)."""
        return self.roles[role][0]

    def node(self, code: str) -> int:
        """Index of ``code`` in arrays over nodes (and over players: players come first)."""
        return self.nodes.index(code)

    def buyer(self, code: str) -> int:
        """Index of ``code`` in arrays over crude buyers."""
        return self.crude_buyers.index(code)

    def supplier(self, code: str) -> int:
        """Index of ``code`` in arrays over the arms buyer's suppliers."""
        return self.arms_suppliers.index(code)

    # ------------------------------------------------------------------ the roles' indices
    @cached_property
    def crude_seller(self) -> str:
        """Code of the crude seller."""
        return self.role("crude_seller")

    @cached_property
    def arms_buyer(self) -> str:
        """Code of the arms buyer (the buyer courted and coerced over its crude)."""
        return self.role("arms_buyer")

    @cached_property
    def penaliser(self) -> str:
        """Code of the player that sets the oil penalty and the listings."""
        return self.role("penaliser")

    @cached_property
    def cap_setter(self) -> str:
        """Code of the player that sets the price cap and the product ban."""
        return self.role("cap_setter")

    @cached_property
    def index(self) -> "RoleIndex":
        """The roles' indices in the three kinds of arrays (:class:`RoleIndex`)."""
        sanctioners = tuple(self.node(c) for c in self.roles.get("sanctioner", ()))
        buyer, seller, pen, cap = self.arms_buyer, self.crude_seller, self.penaliser, self.cap_setter
        return RoleIndex(
            seller=self.node(seller), buyer=self.node(buyer), penaliser=self.node(pen), cap_setter=self.node(cap),
            rest=self.node(REST), sanctioners=sanctioners,
            b_buyer=self.buyer(buyer),
            b_penaliser=self.buyer(pen) if pen in self.crude_buyers else -1,
            b_cap_setter=self.buyer(cap) if cap in self.crude_buyers else -1,
            b_rest=self.buyer(REST),
            a_seller=self.supplier(seller), a_domestic=self.supplier(DOMESTIC),
            a_western=tuple(self.supplier(c) for c in self.arms_suppliers[:-1] if c != seller),
            p_buyer=self.players.index(buyer), p_seller=self.players.index(seller),
            p_western=tuple(self.players.index(c) for c in self.arms_suppliers[:-1] if c != seller))


@dataclass(frozen=True)
class RoleIndex:
    """Indices of the roles: ``seller`` etc. over nodes, ``b_*`` over crude buyers, ``a_*`` over
    arms suppliers, ``p_*`` over players (-1 where the role's player is not in that list)."""

    seller: int
    buyer: int
    penaliser: int
    cap_setter: int
    rest: int
    sanctioners: tuple
    b_buyer: int
    b_penaliser: int
    b_cap_setter: int
    b_rest: int
    a_seller: int
    a_domestic: int
    a_western: tuple
    p_buyer: int
    p_seller: int
    p_western: tuple


_CURRENT: list[Layout] = []


def install(layout: Layout) -> None:
    """Make ``layout`` the one new worlds are built on (called by the player registry)."""
    _CURRENT[:] = [layout]


def current() -> Layout:
    """The installed layout (the declared players'); raises ``LayoutError`` if none is installed."""
    if not _CURRENT:
        raise LayoutError("no players are installed: import geogame (which installs the declared players) first")
    return _CURRENT[0]
