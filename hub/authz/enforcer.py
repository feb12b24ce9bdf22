"""The Casbin enforcer: policies from `policies/`, consent links applied as deltas.

Only hub/authz imports casbin. Two changes to the stock setup, both measured in STACK.md:
the g2 role manager keeps its links in a set (the stock list makes each removal scan every
link), and consent links go straight into that role manager: the enforcer's own copy of
grouping rules would be a second list scanned on every add and remove, and `enforce` reads
links from the role manager only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import casbin
from casbin.rbac.default_role_manager.role_manager import RoleManager

import hub

POLICIES_DIR = Path(hub.__file__).resolve().parent.parent / "policies"


class SetRoleManager(RoleManager):  # type: ignore[misc]
    """The stock role manager with O(1) link bookkeeping (no pattern matching is used)."""

    def __init__(self, max_hierarchy_level: int = 1) -> None:
        super().__init__(max_hierarchy_level)
        self.link_set: set[tuple[str, str]] = set()

    def clear(self) -> None:
        super().clear()
        self.link_set = set()

    def add_link(self, name1: str, name2: str, *domain: str) -> None:
        if (name1, name2) in self.link_set:
            return
        self.link_set.add((name1, name2))
        self._get_role(name1).add_role(self._get_role(name2))

    def delete_link(self, name1: str, name2: str, *domain: str) -> None:
        if (name1, name2) not in self.link_set:
            return
        self.link_set.discard((name1, name2))
        user, role = self.all_roles[name1], self.all_roles[name2]
        user.remove_role(role)
        # free role objects nobody links to any more: a long-running process would grow
        for r in (user, role):
            if r.empty():
                del self.all_roles[r.name]

    def has_link(self, name1: str, name2: str, *domain: str) -> bool:
        # direct links only (no hierarchy), and no role objects created for unknown names
        return (name1, name2) in self.link_set

    def users_of(self, name: str) -> list[str]:
        role = self.all_roles.get(name)
        return [u.name for u in role.users] if role else []


def build_enforcer(in_force: Callable[[str, str], bool]) -> tuple[casbin.Enforcer, SetRoleManager]:
    enforcer = casbin.Enforcer(str(POLICIES_DIR / "model.conf"), str(POLICIES_DIR / "roles.csv"))
    links = SetRoleManager()
    # `enforce` builds g2() from the model assertion's role manager
    enforcer.set_named_role_manager("g2", links)
    enforcer.model["g"]["g2"].rm = links
    enforcer.add_function("in_force", in_force)
    return enforcer, links
