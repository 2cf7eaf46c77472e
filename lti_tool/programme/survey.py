"""The manager insight survey: three questions per observed mistake, asked of a course's managers before
the training is designed (what mistakes do you see, how often, what do they cost the business), and the
designer's reading of the answers as ranked performance gaps.

Rules, decided here:

* **Who answers**: every manager of the course (``permissions.can_answer_survey``), not only those linked
  to learners yet: the survey comes before the training, when links may not exist. One response per
  manager and survey.
* **Draft and submit**: the form saves a draft (``draft_revision`` checked, as feedback drafts are); a
  submission writes one :class:`SurveyAnswer` row per mistake. **Changing a submitted answer makes a new
  revision**: the earlier revision's rows stay, marked not ``current``, and aggregates count the newest
  only. Refusing edits would keep a manager's known-wrong answer in the ranking; silently overwriting
  would lose what the follow-up compares with.
* **Anonymous mode**: designers never see who answered (no names, dates or per-response pages; the export
  has none), and no aggregate shows until ``k`` managers answered. Once answers exist, anonymity cannot be
  turned off and ``k`` cannot be lowered (either would reveal what was given under the promise). The
  respondent stays on the row so the manager can revise it and be asked again at the follow-up.
* **Aggregation**: one SQL ``GROUP BY`` over the current answer rows, left-joined to the gap a designer
  merged each answer key into; ranked by frequency × impact (occurrences per week × 1–5, summed over
  managers) or by the estimated cost per week in the survey's currency. Cadre keeps no exchange rates:
  costs given in another currency are counted apart, never converted.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    and_,
    bindparam,
    case,
    cast,
    delete,
    distinct,
    func,
    literal_column,
    null,
    or_,
    select,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.sqltypes import NullType

from lti_tool import permissions
from lti_tool.db import utcnow
from lti_tool.form_values import whole_number
from lti_tool.models import Activity, CompetencyFramework, Rubric, RubricVersionCompetency, User, audit
from lti_tool.permissions import Actor, ensure
from lti_tool.programme import events
from lti_tool.programme.currencies import is_currency
from lti_tool.programme.errors import FieldProblems, ProgrammeError
from lti_tool.programme.models import (
    KnownMistake,
    SurveyAnswer,
    SurveyGap,
    SurveyGapKey,
    SurveyGapLink,
    SurveyResponse,
    SurveySettings,
)
from lti_tool.states import MistakeFrequency, SurveyResponseStatus

MAX_MISTAKES = 20
"""Mistakes one manager reports in one response."""
MAX_TEXT = 300
MAX_KNOWN = 100
MAX_GAP_NAME = 200
MAX_PER_WEEK = Decimal(1000)
MAX_COST = Decimal("10000000000")
DEFAULT_MIN_ANSWERS = 5
MIN_ANSWERS_RANGE = (3, 1000)

PER_WEEK = {
    MistakeFrequency.DAILY: Decimal(5),
    MistakeFrequency.WEEKLY: Decimal(1),
    MistakeFrequency.MONTHLY: Decimal("0.2308"),
    MistakeFrequency.RARELY: Decimal("0.0769"),
}
"""What a step of the frequency scale counts as, in occurrences per week: daily is every working day
(5), monthly 12 a year (12 / 52), rarely once a quarter (4 / 52)."""
FREQUENCY_LABELS = {
    MistakeFrequency.DAILY: "Daily",
    MistakeFrequency.WEEKLY: "Weekly",
    MistakeFrequency.MONTHLY: "Monthly",
    MistakeFrequency.RARELY: "Rarely",
    MistakeFrequency.PER_WEEK: "My estimate per week",
}
IMPACT_LABELS = {1: "1 – negligible", 2: "2 – minor", 3: "3 – noticeable", 4: "4 – serious", 5: "5 – severe"}
FIELDS = ("known", "text", "frequency", "per_week", "impact", "cost", "currency")

NOT_ENOUGH_ANSWERS = (
    "This survey is anonymous: its results show once at least {k} managers have answered, so that no "
    "answer can be traced to the manager who gave it. Fewer have answered so far."
)
ANONYMITY_KEPT = (
    "Managers answered this survey on the promise that it is anonymous: it stays anonymous, and the number "
    "of answers needed before results show cannot be lowered below {k}."
)


class SurveyError(ProgrammeError):
    """Refused by the insight survey's services."""


class SurveyProblems(FieldProblems, SurveyError):
    """What was typed cannot be stored; ``problems`` by field name."""


class SurveyConflict(SurveyError):
    """The draft was saved from another tab or device after this form was opened."""

    status = 409
    title = "Changed elsewhere"

    def __init__(self, response: SurveyResponse) -> None:
        self.response = response
        super().__init__("This answer was saved from another tab or device after you opened it. Nothing of "
                         "yours was saved over it: the form shows your version; save again to keep it.")


ANONYMOUS = "anonymous respondent"
"""Who the audit log says answered an anonymous survey or follow-up: not even the log names them."""


# -- text --------------------------------------------------------------------------------------------------

UNNAMED = "someone not in the course roster yet"


def person_name(user: User | None) -> str:
    """How pages and e-mails name someone: never by an LTI id (a person the roster has not named yet)."""
    if user is None:
        return ""
    return user.display_name if user.is_named else UNNAMED


def _has_control_characters(text: str) -> bool:
    return any(unicodedata.category(char) in ("Cc", "Cs") for char in text)


def answer_key(text: str) -> str:
    """What makes two answers the same mistake: case, accents, punctuation and spacing ignored."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    letters = "".join(char for char in decomposed if not unicodedata.combining(char))
    words = re.sub(r"[^\w]+", " ", letters).split()
    return " ".join(words)[:320]


STOP_WORDS = frozenset([
    "a", "an", "the", "of", "to", "in", "on", "at", "for", "with", "and", "or", "not", "no", "is",
    "are", "be", "by", "from", "their", "our", "your", "they", "them", "it", "its"
])


def loose_signature(key: str) -> frozenset[str]:
    """The words of a key that carry its meaning, plurals folded: the basis of suggested merges."""
    words = set()
    for word in key.split():
        if word in STOP_WORDS:
            continue
        if len(word) > 4 and word.endswith("es") and not word.endswith("ses"):
            word = word[:-2]
        elif len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        words.add(word)
    return frozenset(words)


def _plain_text(value: object, limit: int) -> str:
    text = value.strip() if isinstance(value, str) else ""
    return " ".join(text.split())[: limit * 4]


# -- settings ----------------------------------------------------------------------------------------------


def settings_of(session: Session, activity: Activity) -> SurveySettings:
    """The survey's settings, or the defaults (not added to the session)."""
    found = session.get(SurveySettings, activity.id)
    return found or SurveySettings(activity_id=activity.id, anonymous=False, min_answers=DEFAULT_MIN_ANSWERS,
                                   currency=None)


def known_mistakes(session: Session, activity: Activity) -> list[KnownMistake]:
    return list(session.scalars(
        select(KnownMistake).where(KnownMistake.activity_id == activity.id, KnownMistake.retired_at.is_(None))
        .order_by(KnownMistake.position, KnownMistake.id)
    ))


def respondent_count(session: Session, activity: Activity) -> int:
    """Managers who submitted an answer (drafts do not count)."""
    return session.scalar(
        select(func.count()).select_from(SurveyResponse)
        .where(SurveyResponse.activity_id == activity.id,
               SurveyResponse.status == SurveyResponseStatus.SUBMITTED)
    ) or 0


@dataclass(frozen=True)
class SettingsInput:
    known: str = ""
    anonymous: bool = False
    min_answers: str = str(DEFAULT_MIN_ANSWERS)
    currency: str = ""


def save_settings(session: Session, actor: Actor, activity: Activity, typed: SettingsInput) -> SurveySettings:
    """The designer's survey settings; :class:`SurveyProblems` (nothing stored) for bad input."""
    ensure(permissions.can_configure_activity(actor, activity))
    if activity.kind not in permissions.SURVEY_KINDS:
        raise SurveyError(permissions.NOT_A_SURVEY, status=404, title="Activity not found")
    problems: dict[str, str] = {}
    labels = [" ".join(line.split()) for line in typed.known.replace("\r\n", "\n").split("\n")]
    labels = [label for label in labels if label]
    if len(labels) > MAX_KNOWN:
        problems["known"] = f"Offer at most {MAX_KNOWN} known mistakes (now {len(labels)})."
    elif any(len(label) > MAX_TEXT for label in labels):
        problems["known"] = f"Each known mistake can be at most {MAX_TEXT} characters long."
    elif any(_has_control_characters(label) for label in labels):
        problems["known"] = "The list contains characters that cannot be shown (such as a tab)."
    elif any(not answer_key(label) for label in labels):
        problems["known"] = "Each known mistake needs at least one letter or digit."
    k_text = typed.min_answers.strip()
    low, high = MIN_ANSWERS_RANGE
    k = whole_number(k_text, digits=5)
    if k is None or not low <= k <= high:
        problems["min_answers"] = f"Give a whole number from {low} to {high}."
    currency = typed.currency.strip().upper()
    if currency and not is_currency(currency):
        problems["currency"] = "Choose a currency from the list (an ISO 4217 code, such as EUR or USD)."
    settings = session.get(SurveySettings, activity.id)
    answered = respondent_count(session, activity)
    if settings is not None and settings.anonymous and answered and k is not None and \
            (not typed.anonymous or k < settings.min_answers):
        problems["anonymous"] = ANONYMITY_KEPT.format(k=settings.min_answers)
    if problems:
        raise SurveyProblems(problems, "Nothing was saved: see the messages beside the fields.")
    assert k is not None
    if settings is None:
        settings = SurveySettings(activity_id=activity.id)
        session.add(settings)
    settings.anonymous, settings.min_answers, settings.currency = typed.anonymous, k, currency or None
    settings.updated_at, settings.updated_by_id = utcnow(), actor.user_id
    _sync_known(session, activity, labels)
    session.flush()
    audit(session, actor, "survey.settings", activity_id=activity.id, anonymous=typed.anonymous,
          min_answers=k, known=len(labels))
    return settings


def _sync_known(session: Session, activity: Activity, labels: list[str]) -> None:
    """Keep the rows of labels still listed (answers point at them), retire the others, add new ones."""
    existing = {row.answer_key: row for row in known_mistakes(session, activity)}
    now = utcnow()
    seen: set[str] = set()
    for position, label in enumerate(labels):
        key = answer_key(label)
        if key in seen:
            continue
        seen.add(key)
        row = existing.get(key)
        if row is None:
            session.add(KnownMistake(activity_id=activity.id, label=label, answer_key=key, position=position))
        else:
            row.label, row.position = label, position
    for key, row in existing.items():
        if key not in seen:
            row.retired_at = now


# -- reading the form --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mistake:
    """One observed mistake, validated."""

    text: str
    key: str
    known_id: int | None
    frequency: MistakeFrequency
    per_week: Decimal
    impact: int
    cost: Decimal | None
    currency: str | None


@dataclass
class SurveyDraft:
    rows: list[dict[str, str]]
    """The form's mistakes as typed (what a draft stores and the page shows)."""
    problems: dict[str, str] = field(default_factory=dict)
    mistakes: list[Mistake] = field(default_factory=list)

    @property
    def content(self) -> dict[str, Any]:
        return {"mistakes": self.rows}


def empty_row(currency: str | None = None) -> dict[str, str]:
    return {"known": "", "text": "", "frequency": "", "per_week": "", "impact": "", "cost": "",
            "currency": currency or ""}


def _is_blank(row: Mapping[str, str]) -> bool:
    return not any(row.get(name, "").strip() for name in FIELDS if name != "currency")


def _decimal(text: str) -> Decimal | None:
    text = text.strip().replace(",", ".") if "," in text and "." not in text else text.strip()
    text = text.replace(" ", "").replace("_", "")
    if not re.fullmatch(r"\d{1,12}(\.\d{1,4})?", text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only plain decimals
        return None


def rows_of_form(form: Mapping[str, str]) -> list[dict[str, str]]:
    """The form's ``mistake-<n>-<field>`` fields, in order, blank rows left out."""
    numbers = sorted({int(match.group(1)) for name in form
                      if (match := re.fullmatch(r"mistake-(\d{1,3})-(\w+)", name))})
    rows = []
    for number in numbers[: MAX_MISTAKES * 3]:
        row = {name: str(form.get(f"mistake-{number}-{name}", ""))[:MAX_TEXT * 4] for name in FIELDS}
        if not _is_blank(row):
            rows.append(row)
    return rows


def rows_of_content(raw: object) -> list[dict[str, str]]:
    """A stored draft's rows (or a JSON body's), strings only."""
    found = raw.get("mistakes") if isinstance(raw, dict) else None
    rows = []
    for item in found if isinstance(found, list) else []:
        if isinstance(item, dict):
            row = {name: item.get(name) if isinstance(item.get(name), str) else "" for name in FIELDS}
            if not _is_blank(row):
                rows.append(row)
    return rows


def read_rows(rows: list[dict[str, str]], known: list[KnownMistake]) -> SurveyDraft:
    """Validate each row into a :class:`Mistake`; problems are keyed ``mistake-<n>-<field>``."""
    draft = SurveyDraft(rows=rows)
    if len(rows) > MAX_MISTAKES:
        draft.problems["mistakes"] = f"Report at most {MAX_MISTAKES} mistakes in one answer."
        return draft
    known_by_id = {str(row.id): row for row in known}
    for number, row in enumerate(rows):
        mistake = _read_row(number, row, known_by_id, draft.problems)
        if mistake is not None:
            draft.mistakes.append(mistake)
    return draft


def _read_row(number: int, row: dict[str, str], known_by_id: dict[str, KnownMistake],
              problems: dict[str, str]) -> Mistake | None:
    def problem(name: str, message: str) -> None:
        problems[f"mistake-{number}-{name}"] = message

    picked = row["known"].strip()
    text = " ".join(row["text"].split())
    known = None
    if picked:
        known = known_by_id.get(picked)
        if known is None:
            problem("known", "Choose a mistake from the list, or type your own.")
        elif text and answer_key(text) != known.answer_key:
            problem("text", "Pick a mistake from the list or type your own, not both.")
    elif not text:
        problem("text", "Say what the mistake is: pick it from the list or type it.")
    elif len(text) > MAX_TEXT:
        problem("text", f"Describe the mistake in at most {MAX_TEXT} characters (now {len(text)}).")
    elif _has_control_characters(text):
        problem("text", "The description contains characters that cannot be shown (such as a tab).")
    elif not answer_key(text):
        problem("text", "Describe the mistake in words.")
    typed_frequency = row["frequency"].strip()
    frequency = next((member for member in MistakeFrequency if member.value == typed_frequency), None)
    per_week = None
    if frequency is None:
        problem("frequency", "Choose how often the mistake happens.")
    elif frequency is MistakeFrequency.PER_WEEK:
        per_week = _decimal(row["per_week"])
        if per_week is None or per_week <= 0 or per_week > MAX_PER_WEEK:
            problem("per_week", f"Give how many times a week, a number above 0 and at most {MAX_PER_WEEK:,}, "
                                "such as 3 or 0.5.")
            per_week = None
    else:
        per_week = PER_WEEK[frequency]
    impact_text = row["impact"].strip()
    impact = int(impact_text) if impact_text in {"1", "2", "3", "4", "5"} else None
    if impact is None:
        problem("impact", "Choose the business impact, from 1 (negligible) to 5 (severe).")
    cost = currency = None
    if row["cost"].strip():
        cost = _decimal(row["cost"])
        if cost is None or cost > MAX_COST or cost.as_tuple().exponent < -2:  # type: ignore[operator]
            problem("cost", "Give the cost of one occurrence as an amount, such as 250 or 99.50.")
            cost = None
        currency = row["currency"].strip().upper()
        if not is_currency(currency):
            problem("currency", "Choose the currency of the cost (an ISO 4217 code, such as EUR).")
            currency = None
    if any(name.startswith(f"mistake-{number}-") for name in problems):
        return None
    assert frequency is not None and per_week is not None and impact is not None
    label = known.label if known is not None else text
    return Mistake(text=label, key=known.answer_key if known is not None else answer_key(text),
                   known_id=known.id if known is not None else None, frequency=frequency, per_week=per_week,
                   impact=impact, cost=cost, currency=currency if cost is not None else None)


# -- answering ---------------------------------------------------------------------------------------------


def survey_activity(session: Session, actor: Actor, activity_id: int) -> Activity:
    """The survey ``activity_id``, if the actor may answer it (another course's, or a guess, is 404)."""
    activity = session.get(Activity, activity_id)
    if activity is None:
        ensure(permissions.refuse(404, "Activity not found", permissions.ACTIVITY_NOT_FOUND))
    assert activity is not None
    ensure(permissions.can_answer_survey(actor, activity))
    return activity


def ensure_set_up(activity: Activity) -> None:
    if activity.configured_at is None:
        raise SurveyError("This survey is being prepared by the course's designer. Come back to it later.",
                          status=409, title="Not set up yet")


def response_of(session: Session, activity: Activity, respondent_id: int) -> SurveyResponse | None:
    return session.scalars(
        select(SurveyResponse).where(SurveyResponse.activity_id == activity.id,
                                     SurveyResponse.respondent_id == respondent_id)
    ).first()


def current_answers(session: Session, response: SurveyResponse) -> list[SurveyAnswer]:
    return list(session.scalars(
        select(SurveyAnswer).where(SurveyAnswer.response_id == response.id, SurveyAnswer.current.is_(True))
        .order_by(SurveyAnswer.position)
    ))


def rows_for_form(session: Session, response: SurveyResponse | None) -> list[dict[str, str]]:
    """What the form shows: the open draft, else the submitted answer, else nothing."""
    if response is None:
        return []
    if response.draft_content is not None:
        return rows_of_content(response.draft_content)
    return [{"known": str(answer.known_mistake_id or ""),
             "text": "" if answer.known_mistake_id else answer.text,
             "frequency": answer.frequency.value,
             "per_week": f"{answer.per_week.normalize():f}"
             if answer.frequency is MistakeFrequency.PER_WEEK else "",
             "impact": str(answer.impact),
             "cost": "" if answer.cost is None else f"{answer.cost:.2f}",
             "currency": answer.currency or ""} for answer in current_answers(session, response)]


def _open_response(session: Session, activity: Activity, respondent_id: int) -> SurveyResponse:
    found = response_of(session, activity, respondent_id)
    if found is not None:
        return found
    now = utcnow()
    response = SurveyResponse(activity_id=activity.id, respondent_id=respondent_id,
                              status=SurveyResponseStatus.DRAFT, draft_revision=0, revision_count=0,
                              created_at=now, updated_at=now)
    try:
        with session.begin_nested():
            session.add(response)
    except IntegrityError:  # a first save from another tab at the same moment: take its row
        found = response_of(session, activity, respondent_id)
        if found is None:
            raise
        return found
    return response


def _write(session: Session, response: SurveyResponse, based_on: int, **values: Any) -> None:
    """Store the change if nobody saved since ``based_on`` (a conditional UPDATE, safe between requests)."""
    now = utcnow()
    changes = {"draft_revision": based_on + 1, "updated_at": now, **values}
    result = session.execute(
        update(SurveyResponse)
        .where(SurveyResponse.id == response.id, SurveyResponse.draft_revision == based_on)
        .values(**changes).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(response)
        raise SurveyConflict(response)
    for name, value in changes.items():
        set_committed_value(response, name, value)


def save_draft(session: Session, actor: Actor, activity: Activity, rows: list[dict[str, str]], *,
               based_on: int) -> SurveyResponse:
    """Save the form as typed (complete or not) over draft revision ``based_on``."""
    ensure(permissions.can_answer_survey(actor, activity))
    return store_draft(session, activity, activity, actor.user_id, rows, based_on=based_on)


def store_draft(session: Session, activity: Activity, survey: Activity, respondent_id: int,
                rows: list[dict[str, str]], *, based_on: int) -> SurveyResponse:
    """:func:`save_draft` for a caller that checked its own rule (a follow-up asking ``survey`` again);
    the response belongs to ``activity``."""
    ensure_set_up(activity)
    draft = read_rows(rows, known_mistakes(session, survey))
    if "mistakes" in draft.problems:
        raise SurveyProblems(draft.problems)
    response = _open_response(session, activity, respondent_id)
    session.flush()
    _write(session, response, based_on, draft_content=draft.content)
    return response


def submit(session: Session, actor: Actor, activity: Activity, rows: list[dict[str, str]], *,
           based_on: int) -> SurveyResponse:
    """Submit the answer (the first time, or as its next revision)."""
    ensure(permissions.can_answer_survey(actor, activity))
    response = store_submission(session, activity, activity, actor.user_id, rows, based_on=based_on)
    anonymous = settings_of(session, activity).anonymous
    audit(session, None if anonymous else actor, "survey.submit", nobody=ANONYMOUS, activity_id=activity.id,
          response_id=response.id, revision=response.revision_count)
    from lti_tool.programme import follow_ups  # follow-ups ask surveys again: they import this module

    follow_ups.schedule_for_survey_response(session, response)
    return response


def store_submission(session: Session, activity: Activity, survey: Activity, respondent_id: int,
                     rows: list[dict[str, str]], *, based_on: int) -> SurveyResponse:
    """Validate and store the answer of ``respondent_id`` in ``activity`` as its next revision, with the
    known mistakes of ``survey``; :class:`SurveyProblems` with nothing stored."""
    ensure_set_up(activity)
    draft = read_rows(rows, known_mistakes(session, survey))
    if not draft.problems and not draft.mistakes:
        draft.problems["mistakes"] = "Report at least one mistake you have observed before submitting."
    if draft.problems:
        raise SurveyProblems(draft.problems)
    response = _open_response(session, activity, respondent_id)
    session.flush()
    number = response.revision_count + 1
    now = utcnow()
    _write(session, response, based_on, draft_content=None, status=SurveyResponseStatus.SUBMITTED,
           revision_count=number, submitted_at=now, first_submitted_at=response.first_submitted_at or now)
    session.execute(update(SurveyAnswer).where(SurveyAnswer.response_id == response.id,
                                               SurveyAnswer.current.is_(True))
                    .values(current=False).execution_options(synchronize_session=False))
    session.add_all([
        SurveyAnswer(activity_id=activity.id, response_id=response.id, revision=number, current=True,
                     position=position, known_mistake_id=mistake.known_id, text=mistake.text,
                     answer_key=mistake.key, frequency=mistake.frequency, per_week=mistake.per_week,
                     impact=mistake.impact, cost=mistake.cost, currency=mistake.currency)
        for position, mistake in enumerate(draft.mistakes)
    ])
    session.flush()
    events.survey_answered(session, response)
    return response


# -- results -----------------------------------------------------------------------------------------------


def results_activity(session: Session, actor: Actor, activity_id: int) -> Activity:
    activity = session.get(Activity, activity_id)
    if activity is None:
        ensure(permissions.refuse(404, "Activity not found", permissions.ACTIVITY_NOT_FOUND))
    assert activity is not None
    ensure(permissions.can_read_survey_results(actor, activity))
    return activity


def results_visible(session: Session, survey: Activity, answers_of: Activity | None = None) -> bool:
    """Whether aggregates may show: always for a named survey; for an anonymous one once ``k`` managers
    answered (in ``answers_of``: a follow-up's own answers count for its report)."""
    settings = settings_of(session, survey)
    return not settings.anonymous or respondent_count(session, answers_of or survey) >= settings.min_answers


def ensure_results_visible(session: Session, survey: Activity, answers_of: Activity | None = None) -> None:
    if not results_visible(session, survey, answers_of):
        raise SurveyError(NOT_ENOUGH_ANSWERS.format(k=settings_of(session, survey).min_answers), status=403,
                          title="Not enough answers yet")


@dataclass(slots=True)
class GapRow:
    """One ranked line: a named gap, or answers of one key nobody merged yet."""

    rank: int
    gap_id: int | None
    key: str | None
    name: str
    answers: int
    managers: int
    per_week: Decimal
    """Mean occurrences per week reported."""
    impact: Decimal
    """Mean business impact (1–5)."""
    score: Decimal
    """Frequency × impact: the sum over answers of occurrences per week × impact."""
    cost_per_week: Decimal | None
    """Sum over answers priced in the survey's currency of occurrences per week × cost."""
    other_currency_answers: int
    keys: tuple[str, ...] = ()
    links: tuple[GapLinkView, ...] = ()


RANKINGS = ("score", "cost")


def gap_aggregate(*, by: str = "score") -> Any:
    """The one SQL statement behind the ranking, with bound ``survey_id`` and ``answers_of_id``: the
    current answers of ``answers_of_id`` grouped by the gap of ``survey_id`` their key was merged into (or
    by their key), with the figures of :class:`GapRow`, ranked. One GROUP BY over the answers and their
    keys, as a hand-written query would be (the gaps' names come with their keys, :func:`ranked_gaps`).
    Built once per ranking (the expression, not only its SQL, is reused)."""
    gap_id = SurveyGapKey.gap_id
    currency = select(SurveySettings.currency).where(SurveySettings.activity_id == bindparam("survey_id")) \
        .scalar_subquery()  # the survey's currency, read by the database once (PostgreSQL: an InitPlan)
    ungrouped_key = case((gap_id.is_(None), SurveyAnswer.answer_key))
    priced = SurveyAnswer.per_week * SurveyAnswer.cost
    # Sums and means as the driver gives them (SQLite floats, PostgreSQL decimals): _figure rounds them once.
    in_currency = type_coerce(func.sum(case((SurveyAnswer.currency == currency, priced))), NullType())
    score = type_coerce(func.sum(SurveyAnswer.per_week * SurveyAnswer.impact), NullType())
    answers = func.count()
    text = func.min(SurveyAnswer.text)
    columns = {
        "gap_id": gap_id, "key": ungrouped_key, "text": text, "answers": answers,
        "managers": func.count(distinct(SurveyAnswer.response_id)),
        "per_week": func.avg(SurveyAnswer.per_week), "impact": func.avg(SurveyAnswer.impact),
        "score": score, "cost": in_currency,
        # Priced in another currency (or with none set): every cost less those in the survey's currency.
        "other_currency": func.count(SurveyAnswer.cost)
        - func.count(case((SurveyAnswer.currency == currency, SurveyAnswer.cost))),
    }
    labelled = {name: expression.label(name) for name, expression in columns.items()}
    order = [labelled["cost"].desc().nulls_last()] if by == "cost" else []
    return (
        select(*labelled.values())
        .select_from(SurveyAnswer)
        .outerjoin(SurveyGapKey, and_(SurveyGapKey.activity_id == bindparam("survey_id"),
                                      SurveyGapKey.answer_key == SurveyAnswer.answer_key))
        .where(SurveyAnswer.activity_id == bindparam("answers_of_id"), SurveyAnswer.current.is_(True))
        .group_by(gap_id, ungrouped_key)
        .order_by(*order, labelled["score"].desc(), labelled["answers"].desc(), labelled["text"])
    )


RANKING_STATEMENTS = {ranking: gap_aggregate(by=ranking) for ranking in RANKINGS}
_GAP_OF_SURVEY = SurveyGap.activity_id == bindparam("survey_id")
_DETAILS = union_all(
    select(literal_column("'name'", String).label("kind"), SurveyGap.id.label("gap_id"),
           SurveyGap.name.label("text"), cast(null(), Integer).label("link_id"),
           cast(null(), String).label("tag"), SurveyGap.id.label("position")).where(_GAP_OF_SURVEY),
    select(literal_column("'key'", String), SurveyGapKey.gap_id, SurveyGapKey.answer_key,
           cast(null(), Integer), cast(null(), String), SurveyGapKey.id)
    .where(SurveyGapKey.activity_id == bindparam("survey_id")),
    select(literal_column("'link'", String), SurveyGapLink.gap_id, SurveyGapLink.label, SurveyGapLink.id,
           SurveyGapLink.competency_tag, SurveyGapLink.id)
    .join(SurveyGap, SurveyGap.id == SurveyGapLink.gap_id).where(_GAP_OF_SURVEY),
).subquery("details")
GAP_DETAILS = select(_DETAILS.c.kind, _DETAILS.c.gap_id, _DETAILS.c.text, _DETAILS.c.link_id,
                     _DETAILS.c.tag).order_by(_DETAILS.c.position)
"""A survey's gaps: each one's name, its keys and its links (in the order they were added), one query."""


@dataclass(frozen=True)
class GapLinkView:
    """A gap's link as the ranking shows and exports it."""

    id: int
    label: str
    competency_tag: str | None


CENTS = Decimal("0.01")


ZERO = Decimal(0).quantize(CENTS)


def _figure(value: Any) -> Decimal:
    """A sum or mean to two places (PostgreSQL answers decimals, SQLite floats or whole numbers)."""
    if value is None:
        return ZERO
    return (value if type(value) is Decimal else Decimal(repr(value))).quantize(CENTS)


def _money(value: Any) -> Decimal | None:
    return None if value is None else _figure(value)


def ranked_gaps(session: Session, survey: Activity, *, by: str = "score",
                answers_of: Activity | None = None) -> list[GapRow]:
    """The gaps ranked by frequency × impact (``by="score"``) or estimated cost per week (``"cost"``); ties
    by answers, then name. Two queries whatever the number of answers and gaps: the ranked aggregate, and
    the gaps' names, keys and links (none when no answer is in a gap)."""
    rows = session.execute(RANKING_STATEMENTS[by if by in RANKINGS else "score"], {
        "survey_id": survey.id, "answers_of_id": (answers_of or survey).id}).all()
    names: dict[int, str] = {}
    keys: dict[int, list[str]] = {}
    links: dict[int, list[GapLinkView]] = {}
    if any(row[0] is not None for row in rows):
        for kind, gap_id, text_or_label, link_id, tag in session.execute(
                GAP_DETAILS, {"survey_id": survey.id}):
            if kind == "key":
                keys.setdefault(gap_id, []).append(text_or_label)
            elif kind == "link":
                links.setdefault(gap_id, []).append(GapLinkView(link_id, text_or_label, tag))
            else:
                names[gap_id] = text_or_label
    ranked = []
    for rank, (gap_id, key, text, answers, managers, per_week, impact, score, cost, other_currency) \
            in enumerate(rows, start=1):  # tuples: a Row's attributes cost more per read
        ranked.append(GapRow(
            rank, gap_id, key, names.get(gap_id, text) if gap_id is not None else text, answers, managers,
            _figure(per_week), _figure(impact), _figure(score), _money(cost), int(other_currency or 0),
            tuple(keys.get(gap_id, ())) if gap_id is not None else (key,), tuple(links.get(gap_id, ()))))
    return ranked


def gaps_of(session: Session, survey: Activity) -> list[SurveyGap]:
    return list(session.scalars(select(SurveyGap).where(SurveyGap.activity_id == survey.id)
                                .order_by(SurveyGap.name, SurveyGap.id)))


@dataclass(frozen=True)
class MergeSuggestion:
    name: str
    keys: tuple[str, ...]
    texts: tuple[str, ...]


def suggested_merges(session: Session, survey: Activity) -> list[MergeSuggestion]:
    """Answer keys nobody merged yet whose meaningful words are the same (plurals and small words
    aside), or overlap by at least three quarters: candidates for one gap. Reads the distinct keys, never
    every answer."""
    merged = select(SurveyGapKey.answer_key).where(SurveyGapKey.activity_id == survey.id)
    keys = session.execute(
        select(SurveyAnswer.answer_key, func.min(SurveyAnswer.text), func.count())
        .where(SurveyAnswer.activity_id == survey.id, SurveyAnswer.current.is_(True),
               SurveyAnswer.answer_key.not_in(merged))
        .group_by(SurveyAnswer.answer_key).order_by(func.count().desc(), SurveyAnswer.answer_key).limit(300)
    ).all()
    signatures = [(key, text, loose_signature(key)) for key, text, _count in keys]
    used: set[str] = set()
    found = []
    for index, (key, text, signature) in enumerate(signatures):
        if key in used or not signature:
            continue
        group = [(key, text)]
        for other_key, other_text, other in signatures[index + 1:]:
            if other_key in used or not other:
                continue
            if len(signature & other) / len(signature | other) >= 0.75:
                group.append((other_key, other_text))
        if len(group) > 1:
            used.update(member for member, _ in group)
            found.append(MergeSuggestion(name=text, keys=tuple(k for k, _ in group),
                                         texts=tuple(t for _, t in group)))
    return found


def _configurable_survey(actor: Actor, survey: Activity) -> None:
    ensure(permissions.can_read_survey_results(actor, survey))
    if survey.kind not in permissions.SURVEY_KINDS:
        raise SurveyError(permissions.NOT_A_SURVEY, status=404, title="Activity not found")


def _gap_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise SurveyProblems({"name": "Name the gap."}, "Name the gap.")
    if len(name) > MAX_GAP_NAME or _has_control_characters(name):
        raise SurveyProblems({"name": f"Name the gap in at most {MAX_GAP_NAME} characters, without tabs."},
                             f"Name the gap in at most {MAX_GAP_NAME} characters.")
    return name


def _existing_keys(session: Session, survey: Activity, keys: list[str]) -> list[str]:
    """The keys among ``keys`` that answers of the survey have (a forged key is refused)."""
    wanted = sorted({key for key in keys if isinstance(key, str) and 0 < len(key) <= 320})
    if not wanted:
        return []
    return list(session.scalars(select(SurveyAnswer.answer_key).distinct().where(
        SurveyAnswer.activity_id == survey.id, SurveyAnswer.answer_key.in_(wanted))))


def merge(session: Session, actor: Actor, survey: Activity, keys: list[str], *, name: str = "",
          gap_id: int | None = None) -> SurveyGap:
    """Merge answers of ``keys`` into the gap ``gap_id``, or into a new gap called ``name``; keys already
    in another gap move to this one."""
    _configurable_survey(actor, survey)
    ensure_results_visible(session, survey)
    found = _existing_keys(session, survey, keys)
    if not found:
        raise SurveyError("Choose at least one answer to merge.")
    gap = gap_of(session, actor, survey, gap_id) if gap_id is not None else None
    if gap is None:
        gap = SurveyGap(activity_id=survey.id, name=_gap_name(name), created_by_id=actor.user_id)
        session.add(gap)
        session.flush()
    session.execute(delete(SurveyGapKey).where(SurveyGapKey.activity_id == survey.id,
                                               SurveyGapKey.answer_key.in_(found)))
    session.add_all([SurveyGapKey(gap_id=gap.id, activity_id=survey.id, answer_key=key) for key in found])
    session.flush()
    _drop_empty_gaps(session, survey)
    session.expire(gap, ["keys"])
    audit(session, actor, "survey.merge", activity_id=survey.id, gap_id=gap.id, keys=len(found))
    return gap


def _drop_empty_gaps(session: Session, survey: Activity) -> None:
    session.execute(delete(SurveyGap).where(
        SurveyGap.activity_id == survey.id,
        SurveyGap.id.not_in(select(SurveyGapKey.gap_id).where(SurveyGapKey.activity_id == survey.id))))
    session.expire_all()


def gap_of(session: Session, actor: Actor, survey: Activity, gap_id: int) -> SurveyGap:
    """The gap ``gap_id`` of this survey (another survey's, or a guess, is "not found")."""
    _configurable_survey(actor, survey)
    gap = session.get(SurveyGap, gap_id)
    if gap is None or gap.activity_id != survey.id:
        raise SurveyError("This gap does not exist, or it belongs to another survey.", status=404,
                          title="Gap not found")
    return gap


def rename_gap(session: Session, actor: Actor, survey: Activity, gap_id: int, name: str) -> SurveyGap:
    gap = gap_of(session, actor, survey, gap_id)
    gap.name = _gap_name(name)
    session.flush()
    return gap


def split_key(session: Session, actor: Actor, survey: Activity, gap_id: int, key: str) -> None:
    """Take answers of ``key`` out of the gap again (a gap left without answers goes)."""
    gap = gap_of(session, actor, survey, gap_id)
    session.execute(delete(SurveyGapKey).where(SurveyGapKey.gap_id == gap.id, SurveyGapKey.answer_key == key))
    _drop_empty_gaps(session, survey)


@dataclass(frozen=True)
class LinkChoice:
    value: str
    """``criterion:<rubric id>:<criterion identifier>`` or ``competency:<tag>``."""
    label: str


def link_choices(session: Session, actor: Actor, survey: Activity) -> list[LinkChoice]:
    """The rubric criteria (current versions of the course's rubrics and those shared with it), the
    competency tags of those criteria and the items of the course's competency frameworks a gap may be
    linked to."""
    from lti_tool.rubric_library import services as rubric_library

    choices: list[LinkChoice] = []
    version_ids = []
    for rubric in session.scalars(select(Rubric).where(permissions.visible_rubrics(actor),
                                                        Rubric.archived_at.is_(None)).order_by(Rubric.title)):
        if rubric.current_version is None:
            continue
        version_ids.append(rubric.current_version.id)
        for criterion in rubric_library.version_content(rubric.current_version).criteria:
            choices.append(LinkChoice(f"criterion:{rubric.id}:{criterion.identifier}",
                                      f"{rubric.title}: {criterion.title}"))
    if version_ids:
        tags = session.scalars(select(RubricVersionCompetency.competency_tag).distinct()
                               .where(RubricVersionCompetency.version_id.in_(version_ids))
                               .order_by(RubricVersionCompetency.competency_tag))
        choices += [LinkChoice(f"competency:{tag}", f"Competency: {tag}") for tag in tags]
    seen = {choice.value for choice in choices}
    frameworks = session.scalars(select(CompetencyFramework).where(
        CompetencyFramework.platform_id == actor.platform_id,
        or_(CompetencyFramework.context_id.is_(None), CompetencyFramework.context_id == actor.context_id))
        .order_by(CompetencyFramework.title, CompetencyFramework.id))
    for framework in frameworks:  # the course's competency frameworks, item by item (tagged by URI)
        for item in framework.items:
            uri, statement = item.get("uri"), " ".join(str(item.get("full_statement", "")).split())
            if not isinstance(uri, str) or not uri or f"competency:{uri}" in seen or len(uri) > 400:
                continue
            code = str(item.get("human_coding_scheme") or "").strip()
            label = f"Competency ({framework.title}): {code + ' ' if code else ''}{statement}"[:500]
            choices.append(LinkChoice(f"competency:{uri}", label))
            seen.add(f"competency:{uri}")
    return choices


def link_gap(session: Session, actor: Actor, survey: Activity, gap_id: int, choice: str) -> SurveyGapLink:
    """Link the gap to a criterion or competency among :func:`link_choices` (anything else is refused)."""
    gap = gap_of(session, actor, survey, gap_id)
    chosen = next((option for option in link_choices(session, actor, survey) if option.value == choice), None)
    if chosen is None:
        raise SurveyError("Choose a rubric criterion or a competency from the list.")
    kind, _, rest = choice.partition(":")
    if any(link.label == chosen.label for link in gap.links):
        return next(link for link in gap.links if link.label == chosen.label)
    if kind == "criterion":
        rubric_id, _, identifier = rest.partition(":")
        link = SurveyGapLink(gap_id=gap.id, rubric_id=int(rubric_id), criterion_identifier=identifier,
                             label=chosen.label)
    else:
        link = SurveyGapLink(gap_id=gap.id, competency_tag=rest, label=chosen.label)
    gap.links.append(link)
    session.flush()
    return link


def unlink_gap(session: Session, actor: Actor, survey: Activity, gap_id: int, link_id: int) -> None:
    gap = gap_of(session, actor, survey, gap_id)
    for link in list(gap.links):
        if link.id == link_id:
            gap.links.remove(link)
    session.flush()


@dataclass(frozen=True)
class Respondent:
    name: str
    submitted_at: Any
    revisions: int


def respondents(session: Session, actor: Actor, survey: Activity) -> list[Respondent] | None:
    """Who answered, for the course's staff; None when the survey is anonymous (nobody is told)."""
    ensure(permissions.can_read_survey_results(actor, survey))
    if not permissions.may_see_respondents(actor, anonymous=settings_of(session, survey).anonymous):
        return None
    rows = session.execute(
        select(User, SurveyResponse.submitted_at, SurveyResponse.revision_count)
        .join(SurveyResponse, SurveyResponse.respondent_id == User.id)
        .where(SurveyResponse.activity_id == survey.id,
               SurveyResponse.status == SurveyResponseStatus.SUBMITTED)
        .order_by(User.name, User.id)
    ).all()
    return [Respondent(person_name(user), at, revisions) for user, at, revisions in rows]


CSV_HEADER = ("rank", "gap", "answers", "managers", "mean_per_week", "mean_impact", "frequency_x_impact",
              "cost_per_week", "currency", "answers_priced_in_other_currencies", "answer_keys",
              "rubric_criteria", "competencies")


def export_rows(session: Session, actor: Actor, survey: Activity, *, by: str = "score") -> list[list[str]]:
    """The ranked gaps as CSV rows (header first); never who answered, nor when."""
    ensure(permissions.can_read_survey_results(actor, survey))
    ensure_results_visible(session, survey)
    currency = settings_of(session, survey).currency or ""
    rows = [list(CSV_HEADER)]
    for gap in ranked_gaps(session, survey, by=by):
        rows.append([
            str(gap.rank), gap.name, str(gap.answers), str(gap.managers), str(gap.per_week), str(gap.impact),
            str(gap.score), "" if gap.cost_per_week is None else str(gap.cost_per_week),
            currency if gap.cost_per_week is not None else "", str(gap.other_currency_answers),
            " | ".join(gap.keys),
            " | ".join(link.label for link in gap.links if link.competency_tag is None),
            " | ".join(link.competency_tag or "" for link in gap.links if link.competency_tag is not None),
        ])
    return rows
