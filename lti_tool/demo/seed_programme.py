"""The demo course's programme activities (``make demo``), seeded after its feedback activities
(:mod:`lti_tool.demo.seed`) through the same services the pages call, so that each has something to see:

=================================  ==================================================  ======================
activity                           done already                                        left to do
=================================  ==================================================  ======================
manager insight survey (named)     Omar (3 mistakes) and Rita (2) answered; two of     Maya: merge, link,
                                   the answers merged into one named gap               export
six-month follow-up of feedback    due (the course date was 200 days ago); Omar        Rita: Chloé's
                                   assessed Ana again and said what changed;           follow-up (due)
                                   Omar has a draft of nothing else
six-month follow-up of the survey  due; Rita answered again with what changed          Omar: his (due)
career conversation                Ana prepared and shared, Omar added his answers,    Chloé: share hers
                                   they agreed three actions and the next date;        (a draft); Rita: add
                                   Chloé saved a draft                                 hers once shared
coaching log (80/20, aim 80%)      Omar: 3 sessions, one well-being check shared;      everyone: log more
                                   Rita: 2 sessions, a private well-being check;
                                   Ana: a session she received
=================================  ==================================================  ======================

No programme activity is graded, so none has a gradebook column.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

import rubrics
from lti_tool.db import utcnow
from lti_tool.deliverables import services as activities
from lti_tool.feedback import content
from lti_tool.models import Activity
from lti_tool.permissions import Actor
from lti_tool.programme import career, coaching_log, follow_ups, survey
from lti_tool.programme.models import FollowUp
from lti_tool.states import ActivityKind, Assessors, CadreRole, FeedbackRelease, FollowUpStatus

if TYPE_CHECKING:
    from lti_tool.demo.seed import DemoCourse


@dataclass(frozen=True)
class SeededProgramme:
    kind: ActivityKind
    title: str
    instructions: str
    briefing: str


SURVEY = SeededProgramme(
    ActivityKind.MANAGER_INSIGHT_SURVEY, "Before the training: the mistakes you see", "",
    "Tell us which mistakes you see on your team's customer calls, how often, and what they cost. The "
    "training is built around the costliest ones.")
FEEDBACK_FOLLOW_UP = SeededProgramme(
    ActivityKind.SIX_MONTH_FOLLOW_UP, "Six months on: your people's calls", "",
    "Assess your people again with the rubric you used six months ago, and say what changed.")
SURVEY_FOLLOW_UP = SeededProgramme(
    ActivityKind.SIX_MONTH_FOLLOW_UP, "Six months on: the mistakes you still see", "",
    "Answer the survey again: which mistakes do you still see, and what changed?")
CAREER = SeededProgramme(
    ActivityKind.CAREER_CONVERSATION, "Where could your career go?",
    "Prepare your answers to the four questions, share them with your manager, then meet and agree "
    "what each of you will do.",
    "Read your person's answers before you meet; add yours, and agree actions and a next date together.")
COACHING = SeededProgramme(
    ActivityKind.COACHING_LOG, "Your coaching log (80/20)",
    "Log the coaching you receive: the topic, the challenge and the step you agreed.",
    "Log each coaching or mentoring conversation you hold or receive; aim for 80% coaching (asking).")
PROGRAMME = (SURVEY, FEEDBACK_FOLLOW_UP, SURVEY_FOLLOW_UP, CAREER, COACHING)

OMAR_MISTAKES = [
    {"known": "", "text": "Gives the price before asking what the customer needs", "frequency": "daily",
     "per_week": "", "impact": "4", "cost": "1200", "currency": "EUR"},
    {"known": "", "text": "Does not summarise the next step at the end of the call", "frequency": "weekly",
     "per_week": "", "impact": "3", "cost": "", "currency": ""},
    {"known": "", "text": "Talks over upset customers", "frequency": "monthly", "per_week": "",
     "impact": "5", "cost": "5000", "currency": "EUR"},
]
RITA_MISTAKES = [
    {"known": "", "text": "Quotes the price before asking about needs", "frequency": "per_week",
     "per_week": "3", "impact": "4", "cost": "800", "currency": "EUR"},
    {"known": "", "text": "Promises delivery dates nobody checked", "frequency": "weekly", "per_week": "",
     "impact": "4", "cost": "2500", "currency": "EUR"},
]
ANA_CAREER = {"five_years": "Leading the key-account team for the Nordic customers.",
              "to_learn": "Managing people: giving feedback, planning the team's week.",
              "to_show": "Two quarters of renewals on target, and the pilot with Nordwind.",
              "when_ready": "In about two years, once the pilot has shown results."}
OMAR_CAREER = {"five_years": "Key accounts suits you; a team lead role opens next year.",
               "to_learn": "Delegating, and coaching rather than fixing things yourself.",
               "to_show": "The renewals, and leading the weekly call review once a month.",
               "when_ready": "Eighteen months, if the call reviews go well."}


def seed_programme(demo: DemoCourse, designer: Actor, feedback_activity: Activity) -> list[Activity]:
    """Place and set up the programme activities and give each the data the table above says."""
    placed = {seeded.title: _set_up(demo, designer, seeded) for seeded in PROGRAMME}
    omar, rita = demo.actor("manager-omar", CadreRole.MANAGER), demo.actor("manager-rita", CadreRole.MANAGER)
    ana, chloe = demo.actor("learner-ana", CadreRole.LEARNER), demo.actor("learner-chloe", CadreRole.LEARNER)
    _survey(demo, designer, placed[SURVEY.title], omar, rita)
    _follow_ups(demo, designer, placed, feedback_activity, omar, rita)
    _career(demo, placed[CAREER.title], ana, chloe, omar)
    _coaching(demo, placed[COACHING.title], omar, rita, ana)
    return list(placed.values())


def _set_up(demo: DemoCourse, designer: Actor, seeded: SeededProgramme) -> Activity:
    session = demo.session
    activity = activities.create_activity(session, designer, seeded.kind, seeded.title)
    settings = activities.ActivitySettings(
        title=seeded.title, instructions=seeded.instructions, manager_briefing=seeded.briefing,
        rubric_id=None, due_at=None, due_timezone="Europe/Paris", points_possible=None, grades_to_lms=False,
        assessors=Assessors.LINE_MANAGER, work_product_required=False,
        feedback_release=FeedbackRelease.ON_SUBMISSION)
    activities.update_settings(session, designer, activity.id, settings,
                               expected_lock_version=activity.lock_version)
    return activity


def _survey(demo: DemoCourse, designer: Actor, activity: Activity, omar: Actor, rita: Actor) -> None:
    session = demo.session
    # Named: the demo course has two managers, fewer than any anonymous survey's k.
    survey.save_settings(session, designer, activity, survey.SettingsInput(
        known="Gives the price too early\nNo clear next step", anonymous=False, min_answers="5",
        currency="EUR"))
    known = {row.label: row for row in survey.known_mistakes(session, activity)}
    price, next_step = known["Gives the price too early"], known["No clear next step"]
    omar_rows = [{**OMAR_MISTAKES[0], "known": str(price.id), "text": ""},
                 {**OMAR_MISTAKES[1], "known": str(next_step.id), "text": ""}, OMAR_MISTAKES[2]]
    survey.submit(session, omar, activity, omar_rows, based_on=0)
    survey.submit(session, rita, activity, RITA_MISTAKES, based_on=0)
    # Omar picked the known mistake, Rita said it in her words: the designer sees they are one gap.
    survey.merge(session, designer, activity, [price.answer_key, survey.answer_key(RITA_MISTAKES[0]["text"])],
                 name="Price before needs")


def _follow_ups(demo: DemoCourse, designer: Actor, placed: dict[str, Activity], feedback_activity: Activity,
                omar: Actor, rita: Actor) -> None:
    session = demo.session
    course_date = (utcnow() - timedelta(days=200)).date().isoformat()  # six months and more ago: due now
    for seeded, source in ((FEEDBACK_FOLLOW_UP, feedback_activity), (SURVEY_FOLLOW_UP, placed[SURVEY.title])):
        follow_ups.save_settings(session, designer, placed[seeded.title], follow_ups.FollowUpInput(
            source_activity_id=str(source.id), offset_days=str(follow_ups.DEFAULT_OFFSET_DAYS),
            anchor="course_date", course_date=course_date))

    def owed(title: str, manager: Actor) -> list[FollowUp]:
        return list(session.scalars(select(FollowUp).where(
            FollowUp.activity_id == placed[title].id, FollowUp.manager_id == manager.user_id,
            FollowUp.status == FollowUpStatus.SCHEDULED).order_by(FollowUp.id)))

    ana = demo.users["learner-ana"].id
    for row in owed(FEEDBACK_FOLLOW_UP.title, omar):
        if row.learner_id != ana:
            continue
        _version, rubric, revision = follow_ups.rubric_of(session, row)
        better = {f"level-{line['criterion']}": _level_above(rubric, line["criterion"], line["level"])
                  for line in revision.criteria}
        better.update({content.comment_field(line["criterion"]): "Asks before she advises now."
                       for line in revision.criteria},
                      what_changed="Ana asks the third question on every call now; renewals are up.")
        follow_ups.answer_rubric_again(session, omar, row, better)
    for row in owed(SURVEY_FOLLOW_UP.title, rita):
        source = session.get(survey.SurveyResponse, row.source_response_id)
        rows = survey.rows_for_form(session, source)
        response = follow_ups.answer_survey_again(session, rita, row, rows, "", based_on=0, submitting=False)
        changed = "The price comes after the questions now; the delivery dates are still a problem."
        follow_ups.answer_survey_again(session, rita, row, rows[1:], changed,
                                       based_on=response.draft_revision, submitting=True)


def _level_above(rubric: rubrics.Rubric, criterion_id: str, level_id: str) -> str:
    """The next level up from the one given six months ago (the same at the top)."""
    criterion = next(item for item in rubric.criteria if item.identifier == criterion_id)
    levels = sorted(criterion.levels, key=lambda level: level.position)
    index = next((number for number, level in enumerate(levels) if level.identifier == level_id), 0)
    return levels[max(0, index - 1)].identifier


def _career(demo: DemoCourse, activity: Activity, ana: Actor, chloe: Actor, omar: Actor) -> None:
    session = demo.session
    career.save_settings(session, demo.actor("designer-maya", CadreRole.DESIGNER), activity,
                         staff_may_read=False)
    conversation = career.own_conversation(session, ana, activity)
    career.save_learner_answers(session, ana, conversation, ANA_CAREER, share=True)
    career.save_manager_answers(session, omar, conversation, OMAR_CAREER)
    today = utcnow().date()
    actions = {"what-0": "Lead the weekly call review in March", "owner-0": "learner",
               "due-0": (today + timedelta(days=30)).isoformat(),
               "what-1": "Book Ana on the feedback workshop", "owner-1": "manager",
               "due-1": (today + timedelta(days=14)).isoformat(),
               "what-2": "Shadow the Nordic team lead for a day", "owner-2": "learner",
               "due-2": (today + timedelta(days=45)).isoformat()}
    career.record_agreement(session, omar, conversation, career.action_rows(actions),
                            (today + timedelta(days=90)).isoformat())
    draft = career.own_conversation(session, chloe, activity)
    career.save_learner_answers(session, chloe, draft, {"five_years": "Running the support desk.",
                                                        "to_learn": "", "to_show": "", "when_ready": ""},
                                share=False)


def _coaching(demo: DemoCourse, activity: Activity, omar: Actor, rita: Actor, ana: Actor) -> None:
    session = demo.session
    today = utcnow().date()

    def log(actor: Actor, days_ago: int, kind: str, minutes: int, topic: str, **more: str) -> None:
        coaching_log.log_session(session, actor, activity, {
            "held_on": (today - timedelta(days=days_ago)).isoformat(), "kind": kind, "minutes": str(minutes),
            "topic": topic, "challenge": more.get("challenge", ""), "next_step": more.get("next_step", ""),
            "stress": more.get("stress", ""), "in_control": more.get("in_control", ""),
            "not_in_control": more.get("not_in_control", ""), "wellbeing_shared": more.get("shared", "")})

    log(omar, 12, "coaching", 45, "Ana: preparing the Nordwind renewal", challenge="She wants me to decide.",
        next_step="She drafts the three questions; we meet Friday.")
    log(omar, 8, "mentoring", 20, "Ben: how we price renewals", next_step="Ben reads last year's offers.")
    log(omar, 3, "coaching", 60, "Being coached by Rita: delegating", challenge="I fix things myself.",
        next_step="Hand the weekly report to Ana.", stress="4", in_control="Which calls I join.",
        not_in_control="The quarter's targets.", shared="1")
    log(rita, 10, "coaching", 30, "Chloé: calls with upset customers", next_step="Chloé tries the pause.")
    log(rita, 5, "coaching", 40, "Dev: asking before advising", stress="2",
        in_control="My calendar this week.", not_in_control="The reorganisation.")
    log(ana, 12, "coaching", 45, "Preparing the Nordwind renewal with Omar",
        next_step="Draft the three questions.")
