"""The life of an anomaly alert: open -> acknowledged -> resolved, nothing after resolved.

Acknowledging says "a person is on it" (the ops alert stops repeating); resolving closes the
episode, by a person or by the detector when the series recovers. Repeating an action is a
no-op, so a retried API call or a double click changes nothing; an action that makes no sense
(acknowledging what is resolved) is refused with the current state.
"""

from __future__ import annotations

from typing import Literal

State = Literal["open", "acknowledged", "resolved"]
Action = Literal["acknowledge", "resolve"]
STATES: tuple[State, ...] = ("open", "acknowledged", "resolved")
ACTIVE: tuple[State, ...] = ("open", "acknowledged")

_NEXT: dict[tuple[str, str], State] = {
    ("open", "acknowledge"): "acknowledged",
    ("acknowledged", "acknowledge"): "acknowledged",
    ("open", "resolve"): "resolved",
    ("acknowledged", "resolve"): "resolved",
    ("resolved", "resolve"): "resolved",
}


class InvalidTransition(ValueError):
    def __init__(self, state: str, action: str) -> None:
        super().__init__(f"cannot {action} an alert that is {state}")
        self.state, self.action = state, action


def transition(state: str, action: str) -> State:
    """The state after ``action``; raises :class:`InvalidTransition` when it is refused."""
    try:
        return _NEXT[(state, action)]
    except KeyError:
        raise InvalidTransition(state, action) from None


def changes(state: str, action: str) -> bool:
    return transition(state, action) != state
