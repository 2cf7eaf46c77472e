"""Inviting a manager from outside the LMS, and their e-mailed sign-in links.

Invite: a designer (for chosen learners of the course) or a learner (for themself) gives a manager's
e-mail address, and Cadre e-mails that manager a sign-in link. A designer's invitation links the manager to
those learners in the course at once (as the designer's people page would: an ended or declined link is put
back in force openly, a new start with its audit entry). A learner's invitation is a nomination
(:func:`lti_tool.relationships.services.nominate`): the link waits for the manager's answer, given once they
have signed in, and nothing a learner sends puts a link in force (nor an ended or declined one back in force).

Every sign-in e-mail an inviter asks for (the invitation, and each new link sent with "Send a new link")
counts against the inviter's daily limit and against the invitation's own.

A sign-in link is ``/invitations/sign-in/<token>``: 32 random bytes, made when the e-mail is written (by
the ``email`` outbox handler, so the token is never stored, queued or logged; the database keeps its
SHA-256). It works once, until ``CADRE_INVITATION_LINK_HOURS`` after it was sent, and only while the
invitation is not revoked. Using it starts a Cadre session as the manager in that course (a
:class:`~lti_tool.models.Launch` row marked with ``permissions.INVITATION_CLAIM``). A spent, expired or
revoked link is refused with a page that offers to e-mail a fresh one to the invitation's address (never
to whoever holds the old link), except for a revoked invitation.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from lti_tool import mail
from lti_tool.db import utcnow
from lti_tool.invitations.models import InvitationSignInLink, ManagerInvitation
from lti_tool.models import AuditEntry, Context, Launch, ManagerLink, Membership, User, audit
from lti_tool.permissions import (
    INVITATION_CLAIM,
    Actor,
    PermissionDenied,
    can_revoke_invitation,
    ensure,
    refuse,
)
from lti_tool.records import events as learning_records
from lti_tool.relationships import services as relationships
from lti_tool.settings import Settings
from lti_tool.states import CadreRole, ManagerLinkRelation, ManagerLinkSource, ManagerLinkStatus, MessageType

MAIL_KIND = "invitation"
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")
MAX_NAME_LENGTH = 200
DAILY_INVITATIONS = {CadreRole.LEARNER: 5, CadreRole.DESIGNER: 200, CadreRole.ADMIN: 200}
"""Sign-in e-mails one person may have Cadre send in 24 hours, invitations and new links alike: Cadre's mail
must not become a way to spam strangers."""
DAILY_SENDS_PER_INVITATION = 3
"""Sign-in e-mails one invitation may be sent in 24 hours at its inviters' asking (the invitation and its
new links, whoever asked): its address is not flooded by resending."""
WINDOW = timedelta(days=1)
RESENT = "invitation.resent"


class InvitationError(Exception):
    """Bad input to an invitation form: ``field`` names the field the message goes beside."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class SendingLimit(InvitationError):
    """One more e-mail would pass a daily limit; ``retry_at`` is when it would not."""

    def __init__(self, field: str, message: str, retry_at: datetime) -> None:
        super().__init__(field, message)
        self.retry_at = retry_at


class LinkRefusal(StrEnum):
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    REVOKED = "revoked"


REFUSALS = {
    LinkRefusal.UNKNOWN: "This sign-in link is not one Cadre sent, or it was copied incompletely.",
    LinkRefusal.USED: "This sign-in link was used already: each link works once.",
    LinkRefusal.EXPIRED: "This sign-in link has expired.",
    LinkRefusal.REVOKED: (
        "This invitation was withdrawn, so its links no longer sign you in. Ask the person who invited you "
        "if you think this is a mistake."
    ),
}


def token_hash(token: str) -> str:
    return hashlib.sha256(b"cadre-invitation:" + token.encode()).hexdigest()


# -- inviting ---------------------------------------------------------------------------------------------


def course_learners(session: Session, context_id: int) -> list[User]:
    """The course's learners, by name: who a designer may choose for an invited manager."""
    return list(session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.context_id == context_id, Membership.role == CadreRole.LEARNER)
        .order_by(User.name, User.sub)
    ))


def _manager_for(session: Session, platform_id: int, email: str, name: str) -> User:
    """The platform's user with this e-mail, or one made for the invitation (no LTI id of their own)."""
    known = session.scalars(
        select(User).where(User.platform_id == platform_id, func.lower(User.email) == email)
        .order_by(User.id).limit(1)
    ).first()
    if known is not None:
        if not known.is_named and name:
            known.name = name
        return known
    user = User(platform_id=platform_id, sub=f"cadre-invited:{secrets.token_hex(16)}", name=name or None,
                email=email)
    session.add(user)
    session.flush()
    return user


def invite(session: Session, actor: Actor, email: str, name: str,
           learner_ids: list[int]) -> ManagerInvitation:
    """Invite the manager at ``email`` to the actor's course for ``learner_ids`` (a learner: themself, as a
    nomination the manager answers) and e-mail them a sign-in link once this transaction commits."""
    context_id = actor.course_id
    email = email.strip().lower()
    name = " ".join(name.split())
    if not mail.valid_address(email):
        raise InvitationError("email", "Give the manager's e-mail address, like name@example.org.")
    if len(name) > MAX_NAME_LENGTH:
        raise InvitationError("name", f"A name has at most {MAX_NAME_LENGTH} characters.")
    if actor.role is CadreRole.LEARNER:
        learner_ids = [actor.user_id]
    elif not actor.may_edit:
        raise PermissionDenied(refuse(403, "Not allowed", "Only designers and learners invite managers."))
    learner_ids = sorted(set(learner_ids))
    if not learner_ids:
        raise InvitationError("learners", "Choose at least one learner for this manager.")
    if actor.role is not CadreRole.LEARNER:
        allowed = {user.id for user in course_learners(session, context_id)}
        if not set(learner_ids) <= allowed:
            raise InvitationError("learners", "Choose learners of this course.")
    _check_sending_limits(session, actor, None, "email")
    manager = _manager_for(session, actor.platform_id, email, name)
    if manager.id in learner_ids:
        raise InvitationError("email", "A learner cannot be their own manager: give another address.")
    for learner_id in learner_ids:
        _link_invited_manager(session, actor, learner_id, manager)
    invitation = ManagerInvitation(platform_id=actor.platform_id, context_id=context_id,
                                   manager_id=manager.id, email=email, invited_by_id=actor.user_id)
    session.add(invitation)
    session.flush()
    audit(session, actor, "invitation.created", invitation_id=invitation.id, manager_id=manager.id,
          learner_ids=learner_ids)
    send_sign_in_link(session, invitation, reason="invited")
    return invitation


def _link_invited_manager(session: Session, actor: Actor, learner_id: int, manager: User) -> None:
    """The learner's link to the invited manager, as the inviter may make it (see the module): the way
    :func:`lti_tool.relationships.services.link` makes every link, so the row, its new start and its audit
    entry are the people pages' own. A link in force stays as it is (its relation too)."""
    existing = session.scalars(select(ManagerLink).where(
        ManagerLink.context_id == actor.course_id, ManagerLink.manager_id == manager.id,
        ManagerLink.learner_id == learner_id)).first()
    nominating = actor.role is CadreRole.LEARNER
    if existing is not None and (existing.status is ManagerLinkStatus.ACTIVE
                                 or nominating and existing.status is ManagerLinkStatus.PENDING):
        return
    learner = session.get(User, learner_id)
    assert learner is not None
    relation = existing.relation if existing is not None else ManagerLinkRelation.LINE_MANAGER
    row, changed = relationships.link(
        session, actor, actor.course_id, relationships.Person(learner, CadreRole.LEARNER),
        relationships.Person(manager, CadreRole.MANAGER), relation,
        ManagerLinkSource.NOMINATION if nominating else ManagerLinkSource.DESIGNER,
        ManagerLinkStatus.PENDING if nominating else ManagerLinkStatus.ACTIVE)
    if changed and nominating:
        learning_records.manager_nominated(session, row)


def _sent_by(session: Session, sender_id: int, since: datetime) -> list[datetime]:
    """When the sender's sign-in e-mails of the window were asked for: invitations, then new links."""
    invited = session.scalars(select(ManagerInvitation.created_at).where(
        ManagerInvitation.invited_by_id == sender_id, ManagerInvitation.created_at > since))
    resent = session.scalars(select(AuditEntry.at).where(
        AuditEntry.action == RESENT, AuditEntry.at > since, AuditEntry.actor_user_id == sender_id))
    return sorted([*invited, *resent])


def _sent_for(session: Session, invitation: ManagerInvitation, since: datetime) -> list[datetime]:
    """When the invitation's sign-in e-mails of the window were asked for, by whoever asked."""
    resent = session.scalars(select(AuditEntry.at).where(
        AuditEntry.action == RESENT, AuditEntry.at > since,
        AuditEntry.details["invitation_id"].as_integer() == invitation.id))
    return sorted([*([invitation.created_at] if invitation.created_at > since else []), *resent])


def _again_after(sent: list[datetime], limit: int) -> datetime:
    """When enough of ``sent`` (sorted, at least ``limit``) has left the window for one more to fit."""
    return sent[len(sent) - limit] + WINDOW


def _minute_of(at: datetime) -> str:
    """``at`` as people are told it: rounded up to the minute, so that sending works then."""
    minute = at.replace(second=0, microsecond=0)
    return f"{minute if minute == at else minute + timedelta(minutes=1):%Y-%m-%d %H:%M} UTC"


def _check_sending_limits(session: Session, actor: Actor, invitation: ManagerInvitation | None,
                          field: str) -> None:
    """Refuse one more sign-in e-mail past the actor's daily limit or the invitation's; when both are
    reached, the refusal names the later time."""
    since = utcnow() - WINDOW
    refusals: list[SendingLimit] = []
    by_sender, sender_limit = _sent_by(session, actor.user_id, since), DAILY_INVITATIONS.get(actor.role, 0)
    if sender_limit and len(by_sender) >= sender_limit:
        again = _again_after(by_sender, sender_limit)
        refusals.append(SendingLimit(field, (
            f"You have sent {len(by_sender)} invitations in the last 24 hours (new sign-in links count too), "
            f"the most Cadre sends for one person: you can send again after {_minute_of(again)}."), again))
    for_invitation = _sent_for(session, invitation, since) if invitation is not None else []
    if invitation is not None and len(for_invitation) >= DAILY_SENDS_PER_INVITATION:
        again = _again_after(for_invitation, DAILY_SENDS_PER_INVITATION)
        refusals.append(SendingLimit(field, (
            f"{invitation.email} was sent {len(for_invitation)} sign-in e-mails in the last 24 hours for "
            "this invitation, the most Cadre sends for one: you can send again after "
            f"{_minute_of(again)}."), again))
    if refusals:
        raise max(refusals, key=lambda refusal: refusal.retry_at)


def resend(session: Session, actor: Actor, invitation: ManagerInvitation) -> None:
    """E-mail the invitation's address a new sign-in link, within the daily limits."""
    ensure(can_revoke_invitation(actor, invitation))
    if invitation.revoked_at is not None:
        raise InvitationError("list", "This invitation was withdrawn: invite the manager again instead.")
    _check_sending_limits(session, actor, invitation, "list")
    audit(session, actor, RESENT, invitation_id=invitation.id)
    send_sign_in_link(session, invitation, reason="resent")


def send_sign_in_link(session: Session, invitation: ManagerInvitation, *, reason: str) -> bool:
    """E-mail a new sign-in link for ``invitation`` after commit (the link is made when it is sent)."""
    sent_before = session.scalar(select(func.count()).select_from(InvitationSignInLink)
                                 .where(InvitationSignInLink.invitation_id == invitation.id)) or 0
    key = f"invitation:{invitation.id}:{reason}:{sent_before}:{utcnow():%Y%m%d%H%M%S%f}"
    return mail.enqueue_mail(session, MAIL_KIND, key, {"invitation_id": invitation.id, "reason": reason})


def invitations_of_course(session: Session, actor: Actor) -> list[ManagerInvitation]:
    """The invitations a designer sees (all of the course), or a learner (those they made)."""
    query = select(ManagerInvitation).where(ManagerInvitation.context_id == actor.course_id)
    if not actor.may_edit:
        query = query.where(ManagerInvitation.invited_by_id == actor.user_id)
    return list(session.scalars(query.order_by(ManagerInvitation.created_at.desc(), ManagerInvitation.id)))


def invitation_for(session: Session, actor: Actor, invitation_id: int) -> ManagerInvitation:
    invitation = session.get(ManagerInvitation, invitation_id)
    ensure(can_revoke_invitation(actor, invitation))
    assert invitation is not None
    return invitation


def revoke(session: Session, actor: Actor, invitation: ManagerInvitation) -> None:
    """Withdraw the invitation: its unused links stop working and its sessions end now."""
    ensure(can_revoke_invitation(actor, invitation))
    if invitation.revoked_at is not None:
        return
    now = utcnow()
    invitation.revoked_at, invitation.revoked_by_id = now, actor.user_id
    session.execute(
        update(Launch).where(Launch.id.in_(
            select(InvitationSignInLink.launch_id).where(InvitationSignInLink.invitation_id == invitation.id,
                                                         InvitationSignInLink.launch_id.is_not(None))
        )).values(expires_at=now).execution_options(synchronize_session=False)
    )
    audit(session, actor, "invitation.revoked", invitation_id=invitation.id)


# -- the e-mail -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignInMail:
    invitation: ManagerInvitation
    token: str
    expires_at: datetime


def new_link(session: Session, invitation: ManagerInvitation, settings: Settings) -> SignInMail:
    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + timedelta(hours=settings.invitation_link_hours)
    session.add(InvitationSignInLink(invitation_id=invitation.id, token_hash=token_hash(token),
                                     expires_at=expires_at))
    session.flush()
    return SignInMail(invitation, token, expires_at)


# -- signing in -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkCheck:
    link: InvitationSignInLink | None
    refusal: LinkRefusal | None

    @property
    def may_ask_for_a_fresh_one(self) -> bool:
        return self.link is not None and self.refusal in (LinkRefusal.USED, LinkRefusal.EXPIRED)


def check_link(session: Session, token: str, now: datetime | None = None) -> LinkCheck:
    """What a sign-in link is worth, without spending it (the page before the exchange)."""
    now = now or utcnow()
    if not TOKEN_PATTERN.fullmatch(token or ""):
        return LinkCheck(None, LinkRefusal.UNKNOWN)
    link = session.scalars(select(InvitationSignInLink)
                           .where(InvitationSignInLink.token_hash == token_hash(token))).first()
    if link is None:
        return LinkCheck(None, LinkRefusal.UNKNOWN)
    if link.invitation.revoked_at is not None:
        return LinkCheck(link, LinkRefusal.REVOKED)
    if link.used_at is not None:
        return LinkCheck(link, LinkRefusal.USED)
    if link.expires_at <= now:
        return LinkCheck(link, LinkRefusal.EXPIRED)
    return LinkCheck(link, None)


def exchange(session: Session, token: str, settings: Settings) -> Launch | LinkCheck:
    """Spend the link and answer the new session's row (not yet started: the view starts it), or the
    refusal. Spending is one conditional UPDATE, so two requests racing with one link get one session."""
    check = check_link(session, token)
    if check.refusal is not None or check.link is None:
        return check
    link, now = check.link, utcnow()
    spent = session.execute(
        update(InvitationSignInLink)
        .where(InvitationSignInLink.id == link.id, InvitationSignInLink.used_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:
        return LinkCheck(link, LinkRefusal.USED)
    invitation = link.invitation
    launch = Launch(
        id=secrets.token_urlsafe(32), platform_id=invitation.platform_id, user_id=invitation.manager_id,
        context_id=invitation.context_id, resource_link_id=None, message_type=MessageType.RESOURCE_LINK,
        role=CadreRole.MANAGER, claims={INVITATION_CLAIM: invitation.id},
        expires_at=now + timedelta(minutes=settings.launch_token_minutes),
    )
    session.add(launch)
    session.flush()
    session.execute(update(InvitationSignInLink).where(InvitationSignInLink.id == link.id)
                    .values(launch_id=launch.id).execution_options(synchronize_session=False))
    invitation.manager.last_seen_at = now
    session.add(AuditEntry(actor_user_id=invitation.manager_id, actor_label=f"user {invitation.manager_id}",
                           action="invitation.signed_in", details={"invitation_id": invitation.id}))
    return launch


def ask_for_a_fresh_link(session: Session, token: str) -> None:
    """Someone holding a spent or expired link asks for another: it goes to the invitation's address,
    at most once per old link (asking again with the same link changes nothing)."""
    check = check_link(session, token)
    if not check.may_ask_for_a_fresh_one or check.link is None:
        return
    mail.enqueue_mail(session, MAIL_KIND, f"invitation:{check.link.invitation_id}:fresh-for:{check.link.id}",
                      {"invitation_id": check.link.invitation_id, "reason": "fresh"})


def course_of(session: Session, context_id: int) -> Context:
    context = session.get(Context, context_id)
    assert context is not None
    return context
