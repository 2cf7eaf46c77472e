"""From the LIS roles a platform sends to the one Cadre role a person has in a course.

Mapping (LTI 1.3 core spec, appendix A.2; full URIs, LTI 1.1 ``urn:lti:…`` forms and short names):

=====================================================  ==========
LIS role                                               Cadre role
=====================================================  ==========
system ``Administrator``/``SysAdmin``,                 admin
institution ``Administrator``/``SysAdmin``
context ``Instructor`` and its sub-roles (incl.        designer
``Instructor#TeachingAssistant``), ``TeachingAssistant``,
``ContentDeveloper``, ``Administrator`` (course admin),
``Manager`` (LIS course management, e.g. CourseCoordinator — not a line manager)
context ``Mentor`` and its sub-roles (Canvas observers)  manager
context ``Learner``, ``Member`` and their sub-roles       learner
=====================================================  ==========

Precedence when several apply: **admin > designer > manager > learner**; a person whose roles map to
nothing (no roles, or only institution roles such as ``Student``) is a learner, the least privileged role.
Short names (``"Instructor"``) are context roles, as the spec says. Other institution roles are ignored:
Canvas sends them in every course whatever the person does there.

Moodle never sends Mentor: its managers launch as learners or instructors, and Cadre keeps their links to
learners itself (see ``lti_tool.relationships``, later). Canvas observers arrive as Mentor with
``role_scope_mentor``, which :mod:`lti_tool.lti.provisioning` turns into manager links.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from lti_tool.models import CadreRole

LIS_PREFIX = "http://purl.imsglobal.org/vocab/lis/v2/"
Scope = Literal["system", "institution", "context"]

PRECEDENCE: tuple[CadreRole, ...] = (
    CadreRole.ADMIN, CadreRole.DESIGNER, CadreRole.MANAGER, CadreRole.LEARNER
)

_ADMIN_NAMES = frozenset({"Administrator", "SysAdmin"})
_CONTEXT_ROLES: dict[str, CadreRole] = {
    "Instructor": CadreRole.DESIGNER,
    "TeachingAssistant": CadreRole.DESIGNER,
    "ContentDeveloper": CadreRole.DESIGNER,
    "Administrator": CadreRole.DESIGNER,
    "Manager": CadreRole.DESIGNER,
    "Mentor": CadreRole.MANAGER,
    "Learner": CadreRole.LEARNER,
    "Member": CadreRole.LEARNER,
}
_LEGACY_SCOPES: dict[str, Scope] = {
    "urn:lti:role:ims/lis/": "context",
    "urn:lti:instrole:ims/lis/": "institution",
    "urn:lti:sysrole:ims/lis/": "system",
}


@dataclass(frozen=True)
class LisRole:
    scope: Scope
    name: str
    sub_role: str | None = None


def parse_role(value: str) -> LisRole | None:
    """``…/membership/Instructor#TeachingAssistant`` → context Instructor, sub-role TeachingAssistant.

    None for values that are not LIS roles.
    """
    value = value.strip()
    if value.startswith(LIS_PREFIX):
        path, _, fragment = value[len(LIS_PREFIX):].partition("#")
        if not fragment:
            return None
        if path == "membership":
            return LisRole("context", fragment)
        if path.startswith("membership/"):
            return LisRole("context", path.removeprefix("membership/"), fragment)
        if path in {"institution/person", "system/person"}:
            return LisRole("institution" if path.startswith("institution") else "system", fragment)
        return None
    for prefix, scope in _LEGACY_SCOPES.items():
        if value.startswith(prefix):
            name, _, sub_role = value[len(prefix):].partition("/")
            return LisRole(scope, name, sub_role or None)
    if value and ":" not in value and "/" not in value:
        name, _, sub_role = value.partition("#")
        return LisRole("context", name, sub_role or None)
    return None


def cadre_role_of(role: LisRole) -> CadreRole | None:
    if role.scope in {"system", "institution"}:
        return CadreRole.ADMIN if role.name in _ADMIN_NAMES else None
    return _CONTEXT_ROLES.get(role.name)


def map_roles(lti_roles: Iterable[str]) -> CadreRole:
    """The Cadre role for a launch's roles claim (see the module docstring for the table)."""
    found = {cadre_role_of(parsed) for parsed in map(parse_role, lti_roles) if parsed}
    return next((role for role in PRECEDENCE if role in found), CadreRole.LEARNER)


def is_platform_admin(lti_roles: Iterable[str]) -> bool:
    return map_roles(lti_roles) is CadreRole.ADMIN


def is_mentor(lti_roles: Iterable[str]) -> bool:
    """Mentor in the course (Canvas observer): the roles that come with ``role_scope_mentor``."""
    return any(
        parsed is not None and parsed.scope == "context" and parsed.name == "Mentor"
        for parsed in map(parse_role, lti_roles)
    )
