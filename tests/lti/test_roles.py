"""LIS roles → Cadre roles, in every form platforms send them."""

from __future__ import annotations

import pytest

from lti_tool.lti.roles import LisRole, is_mentor, is_platform_admin, map_roles, parse_role
from lti_tool.models import CadreRole

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        (LIS + "membership#Instructor", LisRole("context", "Instructor")),
        (
            LIS + "membership/Instructor#TeachingAssistant",
            LisRole("context", "Instructor", "TeachingAssistant"),
        ),
        (LIS + "institution/person#Administrator", LisRole("institution", "Administrator")),
        (LIS + "system/person#Administrator", LisRole("system", "Administrator")),
        ("Instructor", LisRole("context", "Instructor")),
        (
            "urn:lti:role:ims/lis/Instructor/TeachingAssistant",
            LisRole("context", "Instructor", "TeachingAssistant"),
        ),
        ("urn:lti:instrole:ims/lis/Administrator", LisRole("institution", "Administrator")),
        ("urn:lti:sysrole:ims/lis/SysAdmin", LisRole("system", "SysAdmin")),
        ("http://example.com/roles#Boss", None),
        (LIS + "membership", None),
        ("", None),
    ],
)
def test_parse_role(value: str, parsed: LisRole | None) -> None:
    assert parse_role(value) == parsed


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        ([LIS + "system/person#Administrator"], CadreRole.ADMIN),
        ([LIS + "system/person#SysAdmin"], CadreRole.ADMIN),
        ([LIS + "institution/person#Administrator", LIS + "membership#Learner"], CadreRole.ADMIN),
        (["urn:lti:instrole:ims/lis/Administrator"], CadreRole.ADMIN),
        ([LIS + "membership#Instructor"], CadreRole.DESIGNER),
        ([LIS + "membership/Instructor#TeachingAssistant"], CadreRole.DESIGNER),
        ([LIS + "membership#TeachingAssistant"], CadreRole.DESIGNER),
        ([LIS + "membership#ContentDeveloper"], CadreRole.DESIGNER),
        ([LIS + "membership#Administrator"], CadreRole.DESIGNER),  # course admin, not platform admin
        (["Instructor"], CadreRole.DESIGNER),
        (["Administrator"], CadreRole.DESIGNER),  # short names are context roles
        ([LIS + "membership#Mentor"], CadreRole.MANAGER),
        ([LIS + "membership/Mentor#Advisor"], CadreRole.MANAGER),
        ([LIS + "membership#Mentor", LIS + "membership#Learner"], CadreRole.MANAGER),
        ([LIS + "membership#Mentor", LIS + "membership#Instructor"], CadreRole.DESIGNER),
        ([LIS + "membership#Learner"], CadreRole.LEARNER),
        ([LIS + "membership/Learner#NonCreditLearner"], CadreRole.LEARNER),
        (["Learner"], CadreRole.LEARNER),
        ([LIS + "membership#Member"], CadreRole.LEARNER),
        # Institution roles other than Administrator say nothing about this course (Canvas sends them all).
        ([LIS + "institution/person#Instructor", LIS + "membership#Learner"], CadreRole.LEARNER),
        ([LIS + "institution/person#Faculty"], CadreRole.LEARNER),
        ([], CadreRole.LEARNER),
        (["http://example.com/roles#Boss"], CadreRole.LEARNER),
    ],
)
def test_map_roles_with_precedence(roles: list[str], expected: CadreRole) -> None:
    assert map_roles(roles) is expected


def test_admin_and_mentor_predicates() -> None:
    assert is_platform_admin([LIS + "institution/person#Administrator"])
    assert not is_platform_admin([LIS + "membership#Administrator"])
    assert is_mentor([LIS + "membership#Mentor"]) and is_mentor([LIS + "membership/Mentor#Reviewer"])
    assert not is_mentor([LIS + "membership#Learner"])
