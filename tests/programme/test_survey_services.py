"""The manager insight survey's rules: answering (drafts, submission, revisions), every field's bad input,
who may answer, anonymous mode with its k threshold, merging answers into gaps, ranking in SQL, links to
criteria and competencies, and the CSV rows."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from lti_tool.models import AuditEntry, CompetencyFramework
from lti_tool.permissions import (
    ACTIVITY_NOT_FOUND,
    NOT_A_SURVEY,
    SURVEY_MANAGERS_ONLY,
    SURVEY_RESULTS_DESIGNERS_ONLY,
    PermissionDenied,
)
from lti_tool.programme import survey
from lti_tool.programme.models import KnownMistake, SurveyAnswer, SurveyResponse
from lti_tool.rubric_library import services as rubric_library
from lti_tool.states import ActivityKind, MistakeFrequency, SurveyResponseStatus
from tests.programme.conftest import Course, mistake

TEMPLATE = "manager-feedback-on-training-transfer"


def configure(course: Course, activity, **changes: object) -> None:  # type: ignore[no-untyped-def]
    values = {"known": "Not listening to the customer\nPromising what we cannot deliver", "anonymous": False,
              "min_answers": "5", "currency": "EUR", **changes}
    survey.save_settings(course.db, course.designer, activity, survey.SettingsInput(**values))  # type: ignore[arg-type]


def test_a_manager_reports_several_mistakes_and_the_gaps_rank_by_frequency_times_impact(
    course: Course,
) -> None:
    activity = course.activity()
    configure(course, activity)
    known = survey.known_mistakes(course.db, activity)
    assert [row.label for row in known] == ["Not listening to the customer",
                                            "Promising what we cannot deliver"]
    omar, rita = course.managers[:2]
    response = course.answer(omar, activity, mistake(known=str(known[0].id), frequency="daily", impact="2"),
                             mistake("Skipping the call summary", frequency="per_week", per_week="3",
                                     impact="4", cost="120", currency="EUR"))
    assert response.status is SurveyResponseStatus.SUBMITTED and response.revision_count == 1
    course.answer(rita, activity, mistake("  skipping THE call-summary! ", frequency="monthly", impact="5",
                                          cost="100", currency="USD"))

    ranked = survey.ranked_gaps(course.db, activity)
    assert [(row.name, row.answers, row.managers, row.score) for row in ranked] == [
        ("Skipping the call summary", 2, 2, Decimal("13.15")),  # 3 × 4 + 0.2308 × 5
        ("Not listening to the customer", 1, 1, Decimal("10.00")),  # daily = 5 a week × 2
    ]
    summary = ranked[0]
    assert summary.key == "skipping the call summary" and summary.cost_per_week == Decimal("360.00")
    assert summary.other_currency_answers == 1  # the USD estimate is counted apart, never converted
    by_cost = survey.ranked_gaps(course.db, activity, by="cost")
    assert [row.cost_per_week for row in by_cost] == [Decimal("360.00"), None]


def test_changing_a_submitted_answer_makes_a_revision_and_only_the_newest_counts(course: Course) -> None:
    activity = course.activity()
    omar = course.omar
    first = course.answer(omar, activity, mistake("Rushing the greeting", impact="2"))
    course.answer(omar, activity, mistake("Rushing the greeting", impact="5"), mistake("No follow-up call"))
    assert first.revision_count == 2
    rows = course.db.scalars(select(SurveyAnswer).where(SurveyAnswer.response_id == first.id)
                             .order_by(SurveyAnswer.id)).all()
    assert [(row.revision, row.current, row.impact) for row in rows] == [
        (1, False, 2), (2, True, 5), (2, True, 3)]
    assert {row.name: row.impact for row in survey.ranked_gaps(course.db, activity)} == {
        "Rushing the greeting": Decimal("5.00"), "No follow-up call": Decimal("3.00")}


def test_a_draft_saved_elsewhere_is_not_overwritten(course: Course) -> None:
    activity = course.activity()
    saved = survey.save_draft(course.db, course.omar, activity, [mistake("Half typed")], based_on=0)
    assert saved.draft_revision == 1 and saved.status is SurveyResponseStatus.DRAFT
    with pytest.raises(survey.SurveyConflict):
        survey.save_draft(course.db, course.omar, activity, [mistake("Other tab")], based_on=0)
    assert survey.rows_for_form(course.db, saved)[0]["text"] == "Half typed"
    assert survey.respondent_count(course.db, activity) == 0  # drafts count for nothing
    assert survey.ranked_gaps(course.db, activity) == []


@pytest.mark.parametrize(("row", "field", "words"), [
    (mistake(""), "text", "Say what the mistake is"),
    (mistake("x" * 301), "text", "at most 300"),
    (mistake("Bell\x07here"), "text", "cannot be shown"),
    (mistake("!!!"), "text", "in words"),
    (mistake("Typed", known="999999"), "known", "from the list"),
    (mistake("", frequency=""), "frequency", "how often"),
    (mistake("A", frequency="hourly"), "frequency", "how often"),
    (mistake("A", frequency="per_week", per_week=""), "per_week", "times a week"),
    (mistake("A", frequency="per_week", per_week="0"), "per_week", "times a week"),
    (mistake("A", frequency="per_week", per_week="-2"), "per_week", "times a week"),
    (mistake("A", frequency="per_week", per_week="1001"), "per_week", "times a week"),
    (mistake("A", frequency="per_week", per_week="NaN"), "per_week", "times a week"),
    (mistake("A", impact=""), "impact", "business impact"),
    (mistake("A", impact="0"), "impact", "business impact"),
    (mistake("A", impact="6"), "impact", "business impact"),
    (mistake("A", impact="3.5"), "impact", "business impact"),
    (mistake("A", cost="lots", currency="EUR"), "cost", "as an amount"),
    (mistake("A", cost="1.234", currency="EUR"), "cost", "as an amount"),
    (mistake("A", cost="1e9", currency="EUR"), "cost", "as an amount"),
    (mistake("A", cost="99999999999", currency="EUR"), "cost", "as an amount"),
    (mistake("A", cost="100", currency=""), "currency", "ISO 4217"),
    (mistake("A", cost="100", currency="XYZ"), "currency", "ISO 4217"),
    (mistake("A", cost="100", currency="XAU"), "currency", "ISO 4217"),
])
def test_every_field_refuses_bad_input_and_nothing_is_stored(course: Course, row: dict[str, str], field: str,
                                                           words: str) -> None:
    activity = course.activity()
    with pytest.raises(survey.SurveyProblems) as refused:
        course.answer(course.omar, activity, mistake("A fine one"), row)
    assert words in refused.value.problems[f"mistake-1-{field}"]
    assert course.db.scalar(select(func.count()).select_from(SurveyAnswer)) == 0


def test_a_known_mistake_and_a_different_text_together_and_too_many_or_no_mistakes_are_refused(
    course: Course,
) -> None:
    activity = course.activity()
    configure(course, activity)
    known = survey.known_mistakes(course.db, activity)[0]
    with pytest.raises(survey.SurveyProblems) as both:
        course.answer(course.omar, activity, mistake("Something else", known=str(known.id)))
    assert "not both" in both.value.problems["mistake-0-text"]
    with pytest.raises(survey.SurveyProblems) as too_many:
        course.answer(course.omar, activity, *[mistake(f"Mistake {n}") for n in range(21)])
    assert "at most 20" in too_many.value.problems["mistakes"]
    with pytest.raises(survey.SurveyProblems) as empty:
        course.answer(course.omar, activity)
    assert "at least one" in empty.value.problems["mistakes"]
    lower = course.answer(course.omar, activity, mistake("Priced", cost="10.5", currency="eur"))
    (stored,) = survey.current_answers(course.db, lower)
    assert stored.currency == "EUR" and stored.cost == Decimal("10.50")
    assert stored.frequency is MistakeFrequency.WEEKLY and stored.per_week == Decimal(1)


def test_who_may_answer_the_survey(course: Course) -> None:
    activity = course.activity()
    answered = course.answer(course.lena, activity, mistake("Moodle managers launch as learners"))
    assert answered.revision_count == 1
    for actor, status, message in ((course.ana_actor, 403, SURVEY_MANAGERS_ONLY),
                                   (course.designer, 403, SURVEY_MANAGERS_ONLY),
                                   (course.stranger, 404, ACTIVITY_NOT_FOUND)):
        with pytest.raises(PermissionDenied) as refused:
            survey.submit(course.db, actor, activity, [mistake("Mine")], based_on=0)
        assert (refused.value.decision.status, refused.value.decision.message) == (status, message)
    feedback = course.activity(ActivityKind.MANAGER_FEEDBACK)
    with pytest.raises(PermissionDenied) as not_a_survey:
        survey.submit(course.db, course.omar, feedback, [mistake("Mine")], based_on=0)
    assert not_a_survey.value.decision.message == NOT_A_SURVEY
    unprepared = course.activity(configured=False)
    with pytest.raises(survey.SurveyError) as preparing:
        survey.submit(course.db, course.omar, unprepared, [mistake("Mine")], based_on=0)
    assert preparing.value.status == 409


def test_only_the_course_designers_read_results(course: Course) -> None:
    activity = course.activity()
    for actor, status in ((course.omar, 403), (course.ana_actor, 403), (course.other_designer, 404)):
        with pytest.raises(PermissionDenied) as refused:
            survey.results_activity(course.db, actor, activity.id)
        assert refused.value.decision.status == status
    with pytest.raises(PermissionDenied) as refused:
        survey.export_rows(course.db, course.omar, activity)
    assert refused.value.decision.message == SURVEY_RESULTS_DESIGNERS_ONLY
    with pytest.raises(PermissionDenied):
        survey.results_activity(course.db, course.designer, 2_000_000_000)


def test_anonymous_mode_shows_nothing_before_k_answers_and_never_who_answered(course: Course) -> None:
    activity = course.activity()
    configure(course, activity, anonymous=True, min_answers="5")
    for manager in course.managers[:4]:
        course.answer(manager, activity, mistake("Not listening to the customer", impact="4"))
    assert not survey.results_visible(course.db, activity)
    with pytest.raises(survey.SurveyError) as hidden:
        survey.export_rows(course.db, course.designer, activity)
    assert hidden.value.status == 403 and "at least 5" in hidden.value.message
    with pytest.raises(survey.SurveyError):
        survey.merge(course.db, course.designer, activity, ["not listening to the customer"],
                     name="Listening")
    assert survey.respondents(course.db, course.designer, activity) is None

    course.answer(course.managers[4], activity, mistake("not listening to the customer", impact="2"))
    assert survey.results_visible(course.db, activity)
    rows = survey.export_rows(course.db, course.designer, activity)
    exported = "\n".join(",".join(row) for row in rows)
    assert rows[1][:4] == ["1", "Not listening to the customer", "5", "5"]
    for manager in course.managers:
        assert manager.name not in exported and manager.name.split()[0] not in exported
    assert survey.respondents(course.db, course.designer, activity) is None
    submits = course.db.scalars(select(AuditEntry).where(AuditEntry.action == "survey.submit")).all()
    assert len(submits) == 5 and {entry.actor_user_id for entry in submits} == {None}
    assert {entry.actor_label for entry in submits} == {"anonymous respondent"}


def test_anonymity_promised_cannot_be_taken_back(course: Course) -> None:
    activity = course.activity()
    configure(course, activity, anonymous=True, min_answers="6")
    course.answer(course.omar, activity, mistake("Late"))
    for changes in ({"anonymous": False, "min_answers": "6"}, {"anonymous": True, "min_answers": "3"}):
        with pytest.raises(survey.SurveyProblems) as refused:
            configure(course, activity, **changes)
        assert "stays anonymous" in refused.value.problems["anonymous"]
    configure(course, activity, anonymous=True, min_answers="8")  # stricter is fine
    assert survey.settings_of(course.db, activity).min_answers == 8


def test_named_surveys_show_who_answered(course: Course) -> None:
    activity = course.activity()
    configure(course, activity)
    course.answer(course.omar, activity, mistake("Late"))
    found = survey.respondents(course.db, course.designer, activity)
    assert found is not None and [person.name for person in found] == ["Omar Haddad"]


@pytest.mark.parametrize(("changes", "field"), [
    ({"min_answers": "2"}, "min_answers"), ({"min_answers": "1001"}, "min_answers"),
    ({"min_answers": "five"}, "min_answers"), ({"min_answers": ""}, "min_answers"),
    ({"currency": "EURO"}, "currency"), ({"currency": "XXX"}, "currency"),
    ({"known": "\n".join(f"Mistake {n}" for n in range(101))}, "known"),
    ({"known": "y" * 301}, "known"), ({"known": "ok\n???"}, "known"),
])
def test_bad_survey_settings_store_nothing(course: Course, changes: dict[str, str], field: str) -> None:
    activity = course.activity()
    with pytest.raises(survey.SurveyProblems) as refused:
        configure(course, activity, **changes)
    assert field in refused.value.problems
    assert course.db.get(survey.SurveySettings, activity.id) is None


def test_settings_refused_to_managers_and_for_other_kinds(course: Course) -> None:
    activity = course.activity()
    with pytest.raises(PermissionDenied):
        survey.save_settings(course.db, course.omar, activity, survey.SettingsInput())
    with pytest.raises(survey.SurveyError) as other_kind:
        survey.save_settings(course.db, course.designer, course.activity(ActivityKind.MANAGER_FEEDBACK),
                             survey.SettingsInput())
    assert other_kind.value.status == 404


def test_editing_the_known_list_keeps_picked_mistakes(course: Course) -> None:
    activity = course.activity()
    configure(course, activity, known="Late to calls\nNo summary")
    late = survey.known_mistakes(course.db, activity)[0]
    course.answer(course.omar, activity, mistake(known=str(late.id)))
    configure(course, activity, known="No summary\nLate  to calls\nInterrupting")
    listed = survey.known_mistakes(course.db, activity)
    assert [row.label for row in listed] == ["No summary", "Late to calls", "Interrupting"]
    assert listed[1].id == late.id
    configure(course, activity, known="Interrupting")
    retired = course.db.get(KnownMistake, late.id)
    assert retired is not None and retired.retired_at is not None
    response = survey.response_of(course.db, activity, course.omar.user_id)
    assert response is not None
    (answer,) = survey.current_answers(course.db, response)
    assert answer.text == "Late to calls" and answer.known_mistake_id == late.id


def test_the_designer_merges_suggested_answers_into_a_gap_and_links_it(course: Course) -> None:
    activity = course.activity()
    configure(course, activity)
    omar, rita, yusuf = course.managers[:3]
    course.answer(omar, activity, mistake("Not listening to customers", impact="4"))
    course.answer(rita, activity, mistake("not listening to the customer", impact="5"),
                  mistake("Forgetting the summary", frequency="daily", impact="1"))
    course.answer(yusuf, activity, mistake("Customers not listened to", impact="2"))
    (suggestion,) = survey.suggested_merges(course.db, activity)
    assert set(suggestion.keys) == {"not listening to customers", "not listening to the customer"}

    gap = survey.merge(course.db, course.designer, activity, [*suggestion.keys, "forged key"],
                       name="Listening")
    assert sorted(key.answer_key for key in gap.keys) == sorted(suggestion.keys)
    survey.merge(course.db, course.designer, activity, ["customers not listened to"], gap_id=gap.id)
    ranked = survey.ranked_gaps(course.db, activity)
    assert [(row.name, row.gap_id, row.answers, row.managers, row.score) for row in ranked] == [
        ("Listening", gap.id, 3, 3, Decimal("11.00")),
        ("Forgetting the summary", None, 1, 1, Decimal("5.00"))]
    assert survey.suggested_merges(course.db, activity) == []

    rubric = rubric_library.create_from_template(course.db, course.designer, TEMPLATE)
    choices = survey.link_choices(course.db, course.designer, activity)
    criterion = next(choice for choice in choices if choice.value.startswith(f"criterion:{rubric.id}:"))
    link = survey.link_gap(course.db, course.designer, activity, gap.id, criterion.value)
    assert link.rubric_id == rubric.id and link.label == criterion.label
    with pytest.raises(survey.SurveyError):
        survey.link_gap(course.db, course.designer, activity, gap.id, "criterion:999999:made-up")
    rows = survey.export_rows(course.db, course.designer, activity)
    assert rows[0] == list(survey.CSV_HEADER)
    assert rows[1][1] == "Listening" and rows[1][11] == criterion.label

    survey.rename_gap(course.db, course.designer, activity, gap.id, "Active listening")
    with pytest.raises(survey.SurveyProblems):
        survey.rename_gap(course.db, course.designer, activity, gap.id, "  ")
    with pytest.raises(survey.SurveyError):
        survey.merge(course.db, course.designer, activity, ["nothing like this"], name="Ghost")
    for key in [*suggestion.keys, "customers not listened to"]:
        survey.split_key(course.db, course.designer, activity, gap.id, key)
    assert survey.gaps_of(course.db, activity) == []  # a gap left without answers goes


def test_gaps_of_another_survey_are_not_found(course: Course) -> None:
    first, second = course.activity(), course.activity()
    course.answer(course.omar, first, mistake("Late"))
    course.answer(course.omar, second, mistake("Late"))
    gap = survey.merge(course.db, course.designer, first, ["late"], name="Punctuality")
    with pytest.raises(survey.SurveyError) as refused:
        survey.rename_gap(course.db, course.designer, second, gap.id, "Taken over")
    assert refused.value.status == 404
    with pytest.raises(PermissionDenied):
        survey.rename_gap(course.db, course.omar, first, gap.id, "Managers cannot")
    assert [row.gap_id for row in survey.ranked_gaps(course.db, second)] == [None]


def test_responses_are_one_per_manager_and_survey(course: Course) -> None:
    activity = course.activity()
    course.answer(course.omar, activity, mistake("Late"))
    course.answer(course.omar, activity, mistake("Later"))
    assert course.db.scalar(select(func.count()).select_from(SurveyResponse)) == 1


def test_a_gap_links_to_an_item_of_the_courses_competency_framework(course: Course) -> None:
    activity = course.activity()
    course.answer(course.omar, activity, mistake("Late"))
    uri = "https://case.example/CFItems/active-listening"
    course.db.add_all([
        CompetencyFramework(platform_id=course.platform.id, context_id=course.context.id, identifier="f1",
                            uri="https://case.example/CFDocuments/f1", title="Service skills",
                            items=[{"identifier": "i1", "uri": uri, "full_statement": "Listens actively",
                                    "human_coding_scheme": "S.1"}]),
        CompetencyFramework(platform_id=course.platform.id, context_id=course.other_context.id,
                            identifier="f2", uri="https://case.example/CFDocuments/f2", title="Elsewhere",
                            items=[{"identifier": "i2", "uri": "https://case.example/CFItems/other",
                                    "full_statement": "Not this course's"}]),
    ])
    course.db.flush()
    offered = survey.link_choices(course.db, course.designer, activity)
    choices = {choice.value: choice.label for choice in offered}
    assert choices == {f"competency:{uri}": "Competency (Service skills): S.1 Listens actively"}
    gap = survey.merge(course.db, course.designer, activity, ["late"], name="Punctuality")
    link = survey.link_gap(course.db, course.designer, activity, gap.id, f"competency:{uri}")
    assert link.competency_tag == uri
    with pytest.raises(survey.SurveyError):
        survey.link_gap(course.db, course.designer, activity, gap.id,
                        "competency:https://case.example/CFItems/other")
    rows = survey.export_rows(course.db, course.designer, activity)
    assert rows[1][12] == uri


def test_ranking_takes_the_same_two_queries_for_few_or_many_answers_and_gaps(
    course: Course, app: object, count_queries: Callable[[], Any],
) -> None:
    activity = course.activity()
    configure(course, activity)

    def counted() -> int:
        course.db.expire_all()
        assert activity.id  # the page has its activity loaded
        with count_queries() as queries:
            ranked = survey.ranked_gaps(course.db, activity)
        assert ranked, queries.statements
        return queries.count

    course.answer(course.omar, activity, mistake("Late 0"))
    survey.merge(course.db, course.designer, activity, ["late 0"], name="Gap 0")
    few = counted()
    for number, manager in enumerate(course.managers[1:], start=1):
        course.answer(manager, activity, *[mistake(f"Late {number} {n}") for n in range(4)])
        survey.merge(course.db, course.designer, activity, [f"late {number} 0", f"late {number} 1"],
                     name=f"Gap {number}")
    many = counted()
    assert few == many == 2, many
