"""`docs/permissions.md`, written from the permission table so the two cannot drift."""

import inspect

from renxing.auth import policy
from renxing.auth.policy import CLEAR_FIELDS, SETTING_OWNERS, WHO_MAY, Perm, Role

HEADER = """# Permissions

Generated from `src/renxing/auth/policy.py` by `renxing permissions`; a test fails when this page
and the table differ. A permission says what a role may do; scope says where (`grid/scope.py`):
the units assigned to the user and their subtrees, a resident's own household, or everything for
the system administrator (who reads no personal data). Reporter and handler of a report are
relations to one report, not roles (`events/policy.actor_kinds`).
"""


def _perm_comments() -> dict[str, str]:
    """The comment beside each member of `Perm` in the source: what the permission allows."""
    notes: dict[str, str] = {}
    for line in inspect.getsource(policy.Perm).splitlines():
        name, _, rest = line.strip().partition(" = ")
        if rest and "#" in rest:
            notes[name] = rest.split("#", 1)[1].strip()
    return notes


def render() -> str:
    roles = list(Role)
    notes = _perm_comments()
    head = "| permission | " + " | ".join(r.value for r in roles) + " | what it allows |"
    rule = "|---|" + "---|" * len(roles) + "---|"
    rows = [
        f"| `{p.value}` | {' | '.join('✓' if r in WHO_MAY[p] else '' for r in roles)} | {notes[p.name]} |" for p in Perm
    ]
    clear = [f"| {r.value} | {', '.join(sorted(f.value for f in CLEAR_FIELDS.get(r, frozenset())))} |" for r in roles]
    owners = [f"| {setting} | `{perm.value}` |" for setting, perm in SETTING_OWNERS.items()]
    return "\n".join(
        [
            HEADER,
            "## Who may do what",
            "",
            head,
            rule,
            *rows,
            "",
            "## Personal fields seen in the clear",
            "",
            "Everything else is masked; a resident sees their own record in full.",
            "",
            "| role | fields |",
            "|---|---|",
            *clear,
            "",
            "## Who changes each setting",
            "",
            "| setting | permission |",
            "|---|---|",
            *owners,
            "",
        ]
    )
