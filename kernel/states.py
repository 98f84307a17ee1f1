"""State machines as tables: ``(state, action) -> next state``, and one refusal for every move the
table does not hold.

Each module names its machines in its ``domain.py`` (the states, the actions, the table written
by the states' and actions' values, one line per state: ``{"open": {"close": "closed"}}``) and moves
every row through ``next``: an action the current state does not allow is 409 ``invalid-state``
(or a module's own subclass of it) naming the current state, the action and the actions that state
allows. A conditional ``UPDATE`` computes its target from the table too, and keeps its
``WHERE status = <from>`` guard for concurrency.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Generic, TypeVar

from kernel.errors import InvalidState

S = TypeVar("S", bound=StrEnum)
A = TypeVar("A", bound=StrEnum)


class StateMachine(Generic[S, A]):
    """The transitions of one kind of row; ``initial`` is the state a new row starts in.

    ``refusal`` is the problem an illegal move raises (an ``InvalidState``; a module may keep a more
    specific slug, such as ``auction-closed``); a caller may name another for one move.
    """

    def __init__(
        self,
        subject: str,
        states: type[S],
        actions: type[A],
        initial: S,
        table: Mapping[str, Mapping[str, str]],
        *,
        refusal: type[InvalidState] = InvalidState,
    ) -> None:
        """``table``: for each state, by value, the actions it allows and the state each leads to,
        by value (a value the enums do not have is refused here, when the module loads)."""
        transitions = {
            (states(state), actions(action)): states(target)
            for state, moves in table.items()
            for action, target in moves.items()
        }
        if not isinstance(initial, states):
            raise TypeError(f"{subject}: the initial state {initial!r} is not one of its states")
        self.subject = subject
        self.states = states
        self.actions = actions
        self.initial = initial
        self.transitions: Mapping[tuple[S, A], S] = MappingProxyType(dict(transitions))
        self.refusal = refusal

    def next(
        self,
        state: S | str,
        action: A,
        *,
        refusal: type[InvalidState] | None = None,
        detail: str | None = None,
    ) -> S:
        """The state after ``action``; the refusal (409) naming the current state if the table has no such move."""
        current = self.states(state)
        target = self.transitions.get((current, action))
        if target is None:
            if detail is None:
                allowed = ", ".join(a.value for a in self.allowed(current)) or "none"
                verb = action.value.replace("_", " ")
                detail = f"cannot {verb} the {self.subject}: it is {current.value} (allowed: {allowed})"
            raise (refusal or self.refusal)(detail, state=current.value, action=action.value)
        return target

    def allows(self, state: S | str, action: A) -> bool:
        return (self.states(state), action) in self.transitions

    def allowed(self, state: S | str) -> list[A]:
        """The actions ``state`` allows, in the order of the actions' enum."""
        current = self.states(state)
        return [a for a in self.actions if (current, a) in self.transitions]

    def sources(self, action: A) -> frozenset[S]:
        """The states from which ``action`` is allowed."""
        return frozenset(s for (s, a) in self.transitions if a is action)

    def terminal(self) -> frozenset[S]:
        """The states no action leaves."""
        return frozenset(s for s in self.states if not self.allowed(s))

    def reachable(self) -> frozenset[S]:
        """The states some sequence of actions reaches from the initial state."""
        seen = {self.initial}
        frontier = [self.initial]
        while frontier:
            state = frontier.pop()
            for (source, _), target in self.transitions.items():
                if source is state and target not in seen:
                    seen.add(target)
                    frontier.append(target)
        return frozenset(seen)

    def __repr__(self) -> str:
        return f"StateMachine({self.subject!r}, {len(self.transitions)} transitions)"
