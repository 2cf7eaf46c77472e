"""The invitation e-mail: written when the ``email`` outbox message is sent, with a sign-in link made then
(its token exists only in the e-mail; the database keeps its hash)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool import mail
from lti_tool.invitations import services
from lti_tool.invitations.models import ManagerInvitation
from lti_tool.models import ManagerLink, User
from lti_tool.states import ManagerLinkStatus

SIGN_IN_PATH = "/invitations/sign-in/"


def _names(users: list[User]) -> str:
    names = [user.display_name for user in users]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1] if names else ""


@mail.composer(services.MAIL_KIND)
def invitation_mail(session: Session, payload: dict[str, Any]) -> mail.Mail | None:
    invitation = session.get(ManagerInvitation, payload.get("invitation_id"))
    if invitation is None or invitation.revoked_at is not None:
        return None  # withdrawn before the e-mail left: nothing to send
    settings = current_app.config["CADRE"]
    sign_in = services.new_link(session, invitation, settings)
    people_of = {status: list(session.scalars(
        select(User).join(ManagerLink, ManagerLink.learner_id == User.id)
        .where(ManagerLink.context_id == invitation.context_id,
               ManagerLink.manager_id == invitation.manager_id,
               ManagerLink.status == status)
        .order_by(User.name, User.sub)
    )) for status in (ManagerLinkStatus.ACTIVE, ManagerLinkStatus.PENDING)}
    learners, asking = people_of[ManagerLinkStatus.ACTIVE], people_of[ManagerLinkStatus.PENDING]
    course = invitation.context.display_title
    inviter = invitation.invited_by.display_name if invitation.invited_by else "The course team"
    link = settings.url(SIGN_IN_PATH + sign_in.token)
    expires = sign_in.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    fresh = payload.get("reason") == "fresh"
    subject = f"Your new sign-in link for {course}" if fresh else \
        f"{inviter} invites you to give feedback in {course}"
    people = _names(learners) or "your people"
    if fresh:
        intro = "Here is the new sign-in link you asked for."
    elif invitation.invited_by_id in {user.id for user in asking}:  # a learner's nomination: answered
        intro = (f"{inviter} asked you to be their manager in the training course \"{course}\", with "
                 f"{settings.tool_name}: to give them feedback. Sign in to accept or decline; you do not "
                 "need an account in the learning platform.")
        if learners:
            intro += f" You already give feedback to {people} there."
    else:
        intro = (f"{inviter} invited you to give feedback to {people} in the training course \"{course}\", "
                 f"with {settings.tool_name}. You do not need an account in the learning platform.")
    greeting = f"Hello {invitation.manager.name}," if invitation.manager.name else "Hello,"
    text = (
        f"{greeting}\n\n{intro}\n\n"
        f"Sign in (this link works once, until {expires}):\n{link}\n\n"
        "Once it is used or expired, the page it opens lets you ask for a fresh link, sent to this "
        "address.\n"
        f"If you did not expect this e-mail, you can ignore it.\n"
    )
    return mail.Mail(to=invitation.email, to_name=invitation.manager.name or "", subject=subject, text=text)
