"""Rotation rules as a protocol (or a case) declares them: how often a store may be tested in a
round, how soon a tester may return, and whether a breach is refused.

    [rotation]
    max_visits_per_store_per_round = 1
    tester_lockout_days = 30
    strict = false

Only the rules' shape lives here, where a protocol file is parsed; replaying a case's visits
against them is the domain's (``cases.rotation``).
"""

from __future__ import annotations

from ..errors import InvalidInput

KEYS = ("max_visits_per_store_per_round", "tester_lockout_days", "strict")


def check_rules(rules: dict, where: str = "rotation") -> dict:
    """Validate a rotation table (from a protocol or the command line)."""
    for k, v in rules.items():
        if k not in KEYS:
            raise InvalidInput(f"{where}.{k}: unknown key (expected one of {', '.join(KEYS)})")
        if k == "strict":
            if not isinstance(v, bool):
                raise InvalidInput(f"{where}.strict: expected true or false")
        elif not isinstance(v, int) or isinstance(v, bool) or v < (1 if k.startswith("max") else 0):
            raise InvalidInput(f"{where}.{k}: expected a whole number of {'visits' if k.startswith('max') else 'days'}")
    return rules
