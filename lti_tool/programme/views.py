"""The survey's and the follow-ups' pages under ``/activities/<id>``: the manager's survey form and
follow-ups, the designer's settings (a panel of the activity settings page), ranked gaps with merging,
linking and the CSV export, and the change report.

Views read the request and call :mod:`lti_tool.programme.survey` and :mod:`lti_tool.programme.follow_ups`;
the request's unit of work commits. A refused form answers 400 (409 for a draft changed elsewhere) with
everything typed kept.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, redirect, render_template, request

from lti_tool.db import get_session, utcnow
from lti_tool.lti.activity_kinds import kind_info
from lti_tool.lti.session import launch_url
from lti_tool.models import Activity
from lti_tool.permissions import (
    CAREER_KINDS,
    COACHING_LOG_KINDS,
    FOLLOW_UP_KINDS,
    SURVEY_KINDS,
    can_answer_survey,
    can_configure_activity,
    current_actor,
    is_manager_in_course,
    may_answer_surveys,
    may_configure_activities,
    permission,
    the_actor,
)
from lti_tool.programme import career, coaching_log, follow_ups, survey
from lti_tool.programme.currencies import currency_choices
from lti_tool.programme.models import FollowUp
from lti_tool.rubric_library.forms import whole_number
from lti_tool.web import error_page
from lti_tool.web.markdown import render_markdown
from rubrics import spreadsheet_cells

blueprint = Blueprint("programme", __name__, url_prefix="/activities")

ID = "<int(max=2147483647):activity_id>"
GAP = "<int(max=2147483647):gap_id>"
FOLLOW_UP = "<int(max=2147483647):follow_up_id>"
EMPTY_ROWS = 2
"""Blank mistake rows the form offers below those typed ("Add another mistake" adds one more)."""
NO_REVISION = ("This form did not say which saved version of your answer it was opened at, so Cadre saved "
               "nothing. Your answers are still in the form: save again.")


MAX_AUTOSAVE_BYTES = 256 * 1024


@blueprint.errorhandler(survey.SurveyError)
def _refused(error: survey.SurveyError) -> Response:
    if request.path.endswith("/draft"):  # the rubric follow-up's autosave reads JSON
        return _json_answer({"error": error.message}, error.status)
    return error_page(error.status, error.title, error.message)


def _json_answer(body: dict[str, Any], status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response


# -- the settings panel of the activity settings page ------------------------------------------------------


@dataclass
class SettingsPanel:
    """What the activity settings page shows for a survey, a follow-up, a career conversation or a coaching
    log (``programme/_settings.html``)."""

    kind: str
    values: dict[str, Any]
    problems: dict[str, str]
    currencies: list[str]
    sources: list[Activity]


def settings_panel(activity: Activity, typed: dict[str, Any] | None = None,
                   problems: dict[str, str] | None = None) -> SettingsPanel | None:
    """The panel for ``activity`` (None for kinds without one), with the saved values or those typed."""
    session = get_session()
    if activity.kind in SURVEY_KINDS:
        settings = survey.settings_of(session, activity)
        values = typed or {
            "known": "\n".join(row.label for row in survey.known_mistakes(session, activity)),
            "anonymous": settings.anonymous, "min_answers": str(settings.min_answers),
            "currency": settings.currency or "",
        }
        return SettingsPanel("survey", values, problems or {}, currency_choices(), [])
    if activity.kind in FOLLOW_UP_KINDS:
        saved = follow_ups.settings_of(session, activity)
        values = typed or {
            "source_activity_id": str(saved.source_activity_id) if saved else "",
            "offset_days": str(saved.offset_days if saved else follow_ups.DEFAULT_OFFSET_DAYS),
            "anchor": saved.anchor.value if saved else "submission",
            "course_date": saved.course_date.isoformat() if saved and saved.course_date else "",
        }
        return SettingsPanel("follow_up", values, problems or {}, [],
                             follow_ups.source_choices(session, activity))
    if activity.kind in CAREER_KINDS:
        values = typed or {"staff_may_read": career.settings_of(session, activity).staff_may_read}
        return SettingsPanel("career", values, problems or {}, [], [])
    if activity.kind in COACHING_LOG_KINDS:
        values = typed or {"aim_percent": str(coaching_log.aim_of(session, activity))}
        return SettingsPanel("coaching", values, problems or {}, [], [])
    return None


def _configurable(activity_id: int) -> Activity:
    activity = get_session().get(Activity, activity_id)
    if activity is None:
        raise survey.SurveyError("This activity does not exist, or it belongs to another course.",
                                 status=404, title="Activity not found")
    from lti_tool.permissions import ensure

    ensure(can_configure_activity(the_actor(), activity))
    return activity


def panel_page(activity: Activity, panel: SettingsPanel, status: int) -> Any:
    """The kind's settings panel alone, after a refused save (400) with what was typed."""
    return render_template("programme/settings.html", activity=activity, kind=kind_info(activity.kind),
                           panel=panel), status


@blueprint.post(f"/{ID}/survey/settings")
@permission(may_configure_activities)
def save_survey_settings(activity_id: int) -> Any:
    activity = _configurable(activity_id)
    typed = {"known": request.form.get("known", ""), "anonymous": request.form.get("anonymous") == "1",
             "min_answers": request.form.get("min_answers", ""), "currency": request.form.get("currency", "")}
    try:
        survey.save_settings(get_session(), the_actor(), activity, survey.SettingsInput(**typed))
    except survey.SurveyProblems as refused:
        panel = settings_panel(activity, typed, refused.problems)
        assert panel is not None
        return panel_page(activity, panel, 400)
    return redirect(launch_url("deliverables.settings", activity_id=activity.id, notice="kind-saved"),
                    code=303)


@blueprint.post(f"/{ID}/follow-up/settings")
@permission(may_configure_activities)
def save_follow_up_settings(activity_id: int) -> Any:
    activity = _configurable(activity_id)
    typed = {name: request.form.get(name, "") for name in
             ("source_activity_id", "offset_days", "anchor", "course_date")}
    try:
        follow_ups.save_settings(get_session(), the_actor(), activity, follow_ups.FollowUpInput(**typed))
    except survey.SurveyProblems as refused:
        panel = settings_panel(activity, typed, refused.problems)
        assert panel is not None
        return panel_page(activity, panel, 400)
    return redirect(launch_url("deliverables.settings", activity_id=activity.id, notice="kind-saved"),
                    code=303)


# -- the manager's survey ----------------------------------------------------------------------------------


def _form_rows(rows: list[dict[str, str]], currency: str | None,
               extra: int = EMPTY_ROWS) -> list[dict[str, str]]:
    return [*rows, *[survey.empty_row(currency) for _ in range(extra)]][: survey.MAX_MISTAKES]


def _survey_page(activity: Activity, form_survey: Activity, rows: list[dict[str, str]], based_on: int, *,
                 action_url: str, status: int = 200, problems: dict[str, str] | None = None,
                 message: str | None = None, follow_up: FollowUp | None = None, what_changed: str = "",
                 extra: int = EMPTY_ROWS) -> Any:
    session = get_session()
    settings = survey.settings_of(session, form_survey)
    response = survey.response_of(session, activity, the_actor().user_id)
    html = render_template(
        "programme/survey_form.html", activity=activity, kind=kind_info(activity.kind),
        rows=_form_rows(rows, settings.currency, extra), known=survey.known_mistakes(session, form_survey),
        settings=settings, response=response, based_on=based_on, problems=problems or {}, message=message,
        frequencies=survey.FREQUENCY_LABELS, impacts=survey.IMPACT_LABELS, currencies=currency_choices(),
        action_url=action_url, follow_up=follow_up, what_changed=what_changed,
        briefing=render_markdown(activity.manager_briefing), notice=request.args.get("notice"),
    )
    return html, status


@blueprint.get(f"/{ID}/survey")
@permission(may_answer_surveys)
def survey_form(activity_id: int) -> Any:
    session = get_session()
    activity = survey.survey_activity(session, the_actor(), activity_id)
    survey.ensure_set_up(activity)
    response = survey.response_of(session, activity, the_actor().user_id)
    return _survey_page(activity, activity, survey.rows_for_form(session, response),
                        response.draft_revision if response else 0,
                        action_url=launch_url("programme.save_survey", activity_id=activity.id))


@blueprint.post(f"/{ID}/survey")
@permission(may_answer_surveys)
def save_survey(activity_id: int) -> Any:
    session = get_session()
    actor = the_actor()
    activity = survey.survey_activity(session, actor, activity_id)
    rows = survey.rows_of_form(request.form)
    based_on = whole_number(request.form.get("draft_revision", ""))
    action = request.form.get("action", "save")
    url = launch_url("programme.save_survey", activity_id=activity.id)
    if based_on is None:
        return _survey_page(activity, activity, rows, 0, action_url=url, status=400, message=NO_REVISION)
    try:
        if action == "submit":
            survey.submit(session, actor, activity, rows, based_on=based_on)
            return redirect(launch_url("programme.survey_form", activity_id=activity.id, notice="submitted"),
                            code=303)
        response = survey.save_draft(session, actor, activity, rows, based_on=based_on)
    except survey.SurveyConflict as conflict:
        return _survey_page(activity, activity, rows, conflict.response.draft_revision, action_url=url,
                            status=409, message=conflict.message)
    except survey.SurveyProblems as refused:
        return _survey_page(activity, activity, rows, based_on, action_url=url, status=400,
                            problems=refused.problems, message=refused.message)
    if action == "add":
        return _survey_page(activity, activity, rows, response.draft_revision, action_url=url,
                            extra=EMPTY_ROWS + 1, message=None)
    return redirect(launch_url("programme.survey_form", activity_id=activity.id, notice="saved"), code=303)


# -- the designer's results --------------------------------------------------------------------------------


def _ranking() -> str:
    by = request.args.get("by", "score")
    return by if by in survey.RANKINGS else "score"


@blueprint.get(f"/{ID}/survey/results")
@permission(may_configure_activities)
def results(activity_id: int) -> Any:
    session = get_session()
    actor = the_actor()
    activity = survey.results_activity(session, actor, activity_id)
    if activity.kind not in SURVEY_KINDS:
        raise survey.SurveyError("This activity is not a manager insight survey.", status=404,
                                 title="Activity not found")
    settings = survey.settings_of(session, activity)
    visible = survey.results_visible(session, activity)
    by = _ranking()
    return render_template(
        "programme/survey_results.html", activity=activity, kind=kind_info(activity.kind), settings=settings,
        visible=visible, by=by, gaps=survey.ranked_gaps(session, activity, by=by) if visible else [],
        suggestions=survey.suggested_merges(session, activity) if visible else [],
        named_gaps=survey.gaps_of(session, activity) if visible else [],
        choices=survey.link_choices(session, actor, activity) if visible else [],
        respondents=survey.respondents(session, actor, activity),
        hidden_message=None if visible else survey.NOT_ENOUGH_ANSWERS.format(k=settings.min_answers),
        notice=request.args.get("notice"), problem=None,
    )


@blueprint.get(f"/{ID}/survey/results.csv")
@permission(may_configure_activities)
def export(activity_id: int) -> Response:
    session = get_session()
    activity = survey.results_activity(session, the_actor(), activity_id)
    rows = survey.export_rows(session, the_actor(), activity, by=_ranking())

    def lines() -> Iterator[str]:
        for row in rows:
            buffer = io.StringIO()
            spreadsheet_cells.writer(buffer).writerow(row)  # a formula-like cell is written as text
            yield buffer.getvalue()

    return Response(lines(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="survey-{activity.id}-gaps.csv"'})


def _back_to_results(activity: Activity, notice: str) -> Response:
    return redirect(launch_url("programme.results", activity_id=activity.id, notice=notice), code=303)


@blueprint.post(f"/{ID}/survey/gaps")
@permission(may_configure_activities)
def merge(activity_id: int) -> Any:
    session = get_session()
    activity = survey.results_activity(session, the_actor(), activity_id)
    gap_id = whole_number(request.form.get("gap_id", "")) if request.form.get("gap_id") else None
    survey.merge(session, the_actor(), activity, request.form.getlist("key"),
                 name=request.form.get("name", ""), gap_id=gap_id)
    return _back_to_results(activity, "merged")


@blueprint.post(f"/{ID}/survey/gaps/{GAP}")
@permission(may_configure_activities)
def change_gap(activity_id: int, gap_id: int) -> Any:
    """Rename the gap, take an answer out of it, or link / unlink a criterion or competency."""
    session = get_session()
    actor = the_actor()
    activity = survey.results_activity(session, actor, activity_id)
    action = request.form.get("action", "")
    if action == "rename":
        survey.rename_gap(session, actor, activity, gap_id, request.form.get("name", ""))
    elif action == "split":
        survey.split_key(session, actor, activity, gap_id, request.form.get("key", ""))
    elif action == "link":
        survey.link_gap(session, actor, activity, gap_id, request.form.get("choice", ""))
    elif action == "unlink":
        link_id = whole_number(request.form.get("link_id", ""))
        if link_id is None:
            raise survey.SurveyError("The form did not say which link to remove.")
        survey.unlink_gap(session, actor, activity, gap_id, link_id)
    else:
        raise survey.SurveyError("The form did not say what to change.")
    return _back_to_results(activity, action)


# -- follow-ups --------------------------------------------------------------------------------------------


@blueprint.get(f"/{ID}/follow-ups")
@permission(may_answer_surveys)
def my_follow_ups(activity_id: int) -> Any:
    session = get_session()
    activity = follow_ups.follow_up_activity(session, the_actor(), activity_id)
    rows = follow_ups.my_follow_ups(session, the_actor(), activity)
    return render_template("programme/follow_ups.html", activity=activity, kind=kind_info(activity.kind),
                           rows=rows, now=utcnow(), notice=request.args.get("notice"),
                           briefing=render_markdown(activity.manager_briefing))


def _follow_up(activity_id: int, follow_up_id: int) -> tuple[Activity, FollowUp]:
    session = get_session()
    activity = follow_ups.follow_up_activity(session, the_actor(), activity_id)
    row = follow_ups.follow_up_of(session, the_actor(), activity, follow_up_id)
    follow_ups.ensure_due(row)
    return activity, row


def _rubric_values(row: FollowUp) -> dict[str, str]:
    """The rubric form's fields from the manager's draft, else from their answer (answering again)."""
    draft = follow_ups.rubric_draft_of(row)
    if draft is not None:
        criteria, what_changed = draft.get("criteria", {}), draft.get("what_changed", "")
    else:
        criteria = {line["criterion"]: line for line in (row.rubric_answers or {}).get("criteria", [])}
        what_changed = row.what_changed
    return {**{f"level-{key}": line.get("level", "") for key, line in criteria.items()},
            **{f"comment-{key}": line.get("comment", "") for key, line in criteria.items()},
            "what_changed": what_changed}


def _rubric_page(activity: Activity, row: FollowUp, typed: dict[str, str] | None = None, *, status: int = 200,
                 problems: dict[str, str] | None = None, based_on: int | None = None,
                 conflict: str | None = None) -> Any:
    _version, rubric, revision = follow_ups.rubric_of(get_session(), row)
    before = {line["criterion"]: line for line in revision.criteria}
    return render_template(
        "programme/follow_up_rubric.html", activity=activity, kind=kind_info(activity.kind), row=row,
        rubric=rubric, before=before, values=typed or _rubric_values(row), problems=problems or {},
        revision=revision, based_on=row.draft_revision if based_on is None else based_on, conflict=conflict,
        notice=request.args.get("notice"),
        autosave_url=launch_url("programme.follow_up_draft", activity_id=activity.id, follow_up_id=row.id),
    ), status


def _rubric_post(activity: Activity, row: FollowUp, done: str) -> Any:
    """The rubric follow-up's form: Save draft keeps it as typed, Submit scores it."""
    session = get_session()
    actor = the_actor()
    typed = dict(request.form)
    based_on = whole_number(request.form.get("draft_revision", ""))
    if based_on is None:
        return _rubric_page(activity, row, typed, status=400, problems={"form": NO_REVISION})
    try:
        if request.form.get("action") == "save":
            follow_ups.save_rubric_draft(session, actor, row, _rubric_draft_of_form(row), based_on=based_on)
            return redirect(launch_url("programme.follow_up_form", activity_id=activity.id,
                                       follow_up_id=row.id, notice="saved"), code=303)
        follow_ups.answer_rubric_again(session, actor, row, request.form, based_on=based_on)
    except follow_ups.RubricDraftConflict as conflict:
        # Saving again now replaces the other save, knowingly: the form carries the server's revision.
        return _rubric_page(activity, row, typed, status=409, conflict=conflict.message,
                            based_on=row.draft_revision)
    except survey.SurveyProblems as refused:
        return _rubric_page(activity, row, typed, status=400, problems=refused.problems, based_on=based_on)
    return redirect(done, code=303)


def _rubric_draft_of_form(row: FollowUp) -> dict[str, Any]:
    from lti_tool.feedback import content

    _version, rubric, _revision = follow_ups.rubric_of(get_session(), row)
    draft = content.read_form(request.form, rubric)
    return {"criteria": draft.content["criteria"], "what_changed": request.form.get("what_changed", "")}


@blueprint.get(f"/{ID}/follow-ups/{FOLLOW_UP}")
@permission(may_answer_surveys)
def follow_up_form(activity_id: int, follow_up_id: int) -> Any:
    activity, row = _follow_up(activity_id, follow_up_id)
    if row.source_assessment_id is not None:
        return _rubric_page(activity, row)
    session = get_session()
    response = survey.response_of(session, activity, the_actor().user_id)
    rows = survey.rows_for_form(session, response) if response else \
        survey.rows_for_form(session, session.get(survey.SurveyResponse, row.source_response_id))
    return _survey_page(activity, row.source_activity, rows, response.draft_revision if response else 0,
                        action_url=launch_url("programme.save_follow_up", activity_id=activity.id,
                                              follow_up_id=row.id),
                        follow_up=row, what_changed=row.what_changed)


@blueprint.post(f"/{ID}/follow-ups/{FOLLOW_UP}")
@permission(may_answer_surveys)
def save_follow_up(activity_id: int, follow_up_id: int) -> Any:
    session = get_session()
    actor = the_actor()
    activity, row = _follow_up(activity_id, follow_up_id)
    done = launch_url("programme.my_follow_ups", activity_id=activity.id, notice="answered")
    if row.source_assessment_id is not None:
        return _rubric_post(activity, row, done)
    rows = survey.rows_of_form(request.form)
    what_changed = request.form.get("what_changed", "")
    based_on = whole_number(request.form.get("draft_revision", ""))
    url = launch_url("programme.save_follow_up", activity_id=activity.id, follow_up_id=row.id)
    page = {"action_url": url, "follow_up": row, "what_changed": what_changed}
    if based_on is None:
        return _survey_page(activity, row.source_activity, rows, 0, status=400, message=NO_REVISION, **page)
    submitting = request.form.get("action") == "submit"
    try:
        response = follow_ups.answer_survey_again(session, actor, row, rows, what_changed, based_on=based_on,
                                                  submitting=submitting)
    except survey.SurveyConflict as conflict:
        return _survey_page(activity, row.source_activity, rows, conflict.response.draft_revision, status=409,
                            message=conflict.message, **page)
    except survey.SurveyProblems as refused:
        return _survey_page(activity, row.source_activity, rows, based_on, status=400,
                            problems=refused.problems, message=refused.message, **page)
    if submitting:
        return redirect(done, code=303)
    extra = EMPTY_ROWS + (1 if request.form.get("action") == "add" else 0)
    return _survey_page(activity, row.source_activity, rows, response.draft_revision, extra=extra,
                        message="Saved." if request.form.get("action") != "add" else None, **page)


@blueprint.post(f"/{ID}/follow-ups/{FOLLOW_UP}/draft")
@permission(may_answer_surveys)
def follow_up_draft(activity_id: int, follow_up_id: int) -> Response:
    """A rubric follow-up's autosave (``static/feedback-form.js``): ``{"draft_revision": n, "content":
    {"criteria": …, "what_changed": …}}`` → 200 ``{"draft_revision": n + 1, "saved_at": …}``; 409 with the
    server's draft when it is no longer revision ``n``; 400 with problems by field."""
    if (request.content_length or 0) > MAX_AUTOSAVE_BYTES:
        return _json_answer({"error": "This draft is too large to save."}, 413)
    activity, row = _follow_up(activity_id, follow_up_id)
    if row.source_assessment_id is None:
        return _json_answer({"error": "This follow-up asks a survey again: its answers are saved with the "
                                      "form's Save button."}, 400)
    body = request.get_json(silent=True)
    based_on = body.get("draft_revision") if isinstance(body, dict) else None
    if not isinstance(based_on, int) or isinstance(based_on, bool) or not 0 <= based_on < 2**31:
        return _json_answer({"error": "The autosave must be JSON with draft_revision (a whole number) and "
                                      "content."}, 400)
    assert isinstance(body, dict)
    try:
        follow_ups.save_rubric_draft(get_session(), the_actor(), row, body.get("content"), based_on=based_on)
    except follow_ups.RubricDraftConflict as conflict:
        return _json_answer({
            "error": conflict.message, "draft_revision": row.draft_revision,
            "saved_at": row.draft_saved_at.isoformat() if row.draft_saved_at else None,
            "content": follow_ups.rubric_draft_of(row)}, 409)
    except survey.SurveyProblems as refused:
        return _json_answer({"error": refused.message, "problems": refused.problems}, 400)
    assert row.draft_saved_at is not None
    return _json_answer({"draft_revision": row.draft_revision, "saved_at": row.draft_saved_at.isoformat()})


@blueprint.get(f"/{ID}/follow-ups/report")
@permission(may_configure_activities)
def report(activity_id: int) -> Any:
    session = get_session()
    actor = the_actor()
    activity = follow_ups.report_activity(session, actor, activity_id)
    return render_template("programme/follow_up_report.html", activity=activity,
                           kind=kind_info(activity.kind),
                           report=follow_ups.change_report(session, actor, activity),
                           overview=follow_ups.follow_up_overview(session, actor, activity))


# -- template helpers --------------------------------------------------------------------------------------


def answers_survey_as_manager(activity: Activity) -> bool:
    """For the landing page: whether the person may answer this survey or follow-up as a manager."""
    actor = current_actor()
    if actor is None:
        return False
    if activity.kind in FOLLOW_UP_KINDS:
        return is_manager_in_course(actor, get_session())
    return bool(can_answer_survey(actor, activity))


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
    app.add_template_global(settings_panel, "programme_settings_panel")
    app.add_template_global(answers_survey_as_manager, "answers_survey_as_manager")
    app.add_template_filter(follow_ups.person_name, "programme_person")
