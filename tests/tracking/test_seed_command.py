"""``cadre demo seed`` (also ``cadre tracking seed``): a course of the size asked for, said in one line;
sizes out of range refused."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import func, select

from lti_tool.db import session_scope
from lti_tool.models import Activity, Membership
from lti_tool.states import CadreRole
from lti_tool.tracking.models import CriterionScore, CriterionScoreTally
from tests.fixtures.operations import Cadre

COMMANDS = pytest.mark.parametrize("group", ["demo", "tracking"])


@COMMANDS
def test_the_seed_command_fills_a_new_course_of_the_size_asked(cadre: Cadre, app: Flask, group: str) -> None:
    done = cadre(
        group, "seed", "--learners", "25", "--activities", "3", "--criteria", "2", "--seed", "4"
    )
    assert done.exit_code == 0, done.output
    found = re.search(
        r"Course (\d+): 25 learners, 3 managers, 3 activities x 2 criteria, (\d+) assessments", done.output
    )
    assert found, done.output
    context_id = int(found.group(1))
    with session_scope(app) as session:
        learners = session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(Membership.context_id == context_id, Membership.role == CadreRole.LEARNER)
        )
        activities = session.scalar(
            select(func.count()).select_from(Activity).where(Activity.context_id == context_id)
        )
        scores = session.scalar(select(func.count()).select_from(CriterionScore))
        tallied = session.scalar(select(func.sum(CriterionScoreTally.scores)))
    assert (learners, activities) == (25, 3)
    assert scores and scores == tallied


@COMMANDS
def test_sizes_out_of_range_are_refused(cadre: Cadre, group: str) -> None:
    for option, value in (("--learners", "0"), ("--activities", "500"), ("--criteria", "many")):
        refused = cadre(group, "seed", option, value)
        assert refused.exit_code == 2 and f"Invalid value for '{option}'" in refused.output
