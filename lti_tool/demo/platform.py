"""A real LTI 1.3 platform, small enough to read: keys, id_tokens, and the checks a platform makes.

Used by ``cadre demo`` (the stand-in LMS) and by every test that launches Cadre. Nothing here is mocked:
id_tokens are RS256-signed with the platform's key and published in its JWKS, and what the tool sends back
(deep-linking responses, client-credentials assertions) is verified against the tool's own JWKS.

The negative paths a certification run tries are first-class: sign with another key, without a ``kid``,
with an unknown ``kid``, or tamper with the payload after signing.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from jwcrypto import jwk, jws, jwt
from jwcrypto.common import JWException

LTI: Final = "https://purl.imsglobal.org/spec/lti/claim/"
DL: Final = "https://purl.imsglobal.org/spec/lti-dl/claim/"
AGS: Final = "https://purl.imsglobal.org/spec/lti-ags/claim/"
NRPS: Final = "https://purl.imsglobal.org/spec/lti-nrps/claim/"

CLAIM_MESSAGE_TYPE: Final = LTI + "message_type"
CLAIM_VERSION: Final = LTI + "version"
CLAIM_DEPLOYMENT_ID: Final = LTI + "deployment_id"
CLAIM_TARGET_LINK_URI: Final = LTI + "target_link_uri"
CLAIM_RESOURCE_LINK: Final = LTI + "resource_link"
CLAIM_ROLES: Final = LTI + "roles"
CLAIM_CONTEXT: Final = LTI + "context"
CLAIM_TOOL_PLATFORM: Final = LTI + "tool_platform"
CLAIM_LAUNCH_PRESENTATION: Final = LTI + "launch_presentation"
CLAIM_LIS: Final = LTI + "lis"
CLAIM_CUSTOM: Final = LTI + "custom"
CLAIM_ROLE_SCOPE_MENTOR: Final = LTI + "role_scope_mentor"
CLAIM_DEEP_LINKING_SETTINGS: Final = DL + "deep_linking_settings"
CLAIM_CONTENT_ITEMS: Final = DL + "content_items"
CLAIM_DL_DATA: Final = DL + "data"
CLAIM_DL_MSG: Final = DL + "msg"
CLAIM_AGS_ENDPOINT: Final = AGS + "endpoint"
CLAIM_NRPS: Final = NRPS + "namesroleservice"

CLAIM_ALIASES: Final[Mapping[str, str]] = {
    "message_type": CLAIM_MESSAGE_TYPE,
    "version": CLAIM_VERSION,
    "deployment_id": CLAIM_DEPLOYMENT_ID,
    "target_link_uri": CLAIM_TARGET_LINK_URI,
    "resource_link": CLAIM_RESOURCE_LINK,
    "roles": CLAIM_ROLES,
    "context": CLAIM_CONTEXT,
    "tool_platform": CLAIM_TOOL_PLATFORM,
    "launch_presentation": CLAIM_LAUNCH_PRESENTATION,
    "lis": CLAIM_LIS,
    "custom": CLAIM_CUSTOM,
    "role_scope_mentor": CLAIM_ROLE_SCOPE_MENTOR,
    "deep_linking_settings": CLAIM_DEEP_LINKING_SETTINGS,
    "ags": CLAIM_AGS_ENDPOINT,
    "nrps": CLAIM_NRPS,
}
"""Short names accepted wherever a claim is named (``claims=``, ``omit=``), e.g. ``omit=["version"]``."""

RESOURCE_LINK_REQUEST: Final = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST: Final = "LtiDeepLinkingRequest"
DEEP_LINKING_RESPONSE: Final = "LtiDeepLinkingResponse"
LTI_VERSION: Final = "1.3.0"

LIS: Final = "http://purl.imsglobal.org/vocab/lis/v2/"
ROLE_INSTRUCTOR: Final = LIS + "membership#Instructor"
ROLE_CONTENT_DEVELOPER: Final = LIS + "membership#ContentDeveloper"
ROLE_MENTOR: Final = LIS + "membership#Mentor"
ROLE_LEARNER: Final = LIS + "membership#Learner"
ROLE_INSTITUTION_ADMIN: Final = LIS + "institution/person#Administrator"
ROLE_SYSTEM_ADMIN: Final = LIS + "system/person#Administrator"

LIS_ROLES_FOR: Final[Mapping[str, tuple[str, ...]]] = {
    "designer": (ROLE_INSTRUCTOR,),
    "manager": (ROLE_MENTOR,),
    "learner": (ROLE_LEARNER,),
    "admin": (ROLE_INSTITUTION_ADMIN, ROLE_SYSTEM_ADMIN),
}
"""The LIS roles this platform sends for each Cadre role (Cadre maps them back, see ``lti_tool.lti``)."""

CLIENT_ASSERTION_TYPE: Final = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ID_TOKEN_LIFETIME_SECONDS: Final = 300


class KeepHeader:
    """Marker: keep the key's own ``kid`` in the JWS header."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = KeepHeader()


class PlatformError(Exception):
    """A request the platform refuses; ``status`` is the HTTP status its endpoint answers with."""

    def __init__(self, message: str, status: int = 400, *, oauth_error: str = "invalid_request") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.oauth_error = oauth_error


# --------------------------------------------------------------------------------------------- keys


@dataclass(frozen=True)
class PlatformKey:
    """An RSA key pair with its ``kid``."""

    kid: str
    key: jwk.JWK

    @classmethod
    def generate(cls, kid: str | None = None) -> PlatformKey:
        return cls(kid=kid or secrets.token_urlsafe(12), key=jwk.JWK.generate(kty="RSA", size=2048))

    @classmethod
    def from_json(cls, text: str) -> PlatformKey:
        data = json.loads(text)
        return cls(kid=data["kid"], key=jwk.JWK(**data))

    def to_json(self) -> str:
        """The private JWK (with its kid), for keeping the demo's key in instance/."""
        data = json.loads(self.key.export_private())
        data["kid"] = self.kid
        return json.dumps(data)

    def public_jwk(self) -> dict[str, Any]:
        public = json.loads(self.key.export_public())
        public.update({"kid": self.kid, "alg": "RS256", "use": "sig"})
        return public


def sign_jwt(
    claims: Mapping[str, Any],
    key: PlatformKey,
    *,
    kid: str | None | KeepHeader = KEEP,
    alg: str = "RS256",
    extra_header: Mapping[str, Any] | None = None,
) -> str:
    """A compact JWS of ``claims``. ``kid=None`` leaves the kid out of the header; a string overrides it."""
    header: dict[str, Any] = {"alg": alg, "typ": "JWT"}
    header_kid = key.kid if isinstance(kid, KeepHeader) else kid
    if header_kid is not None:
        header["kid"] = header_kid
    header.update(extra_header or {})
    token = jwt.JWT(header=header, claims=json.dumps(dict(claims)))
    token.make_signed_token(key.key)
    return token.serialize()


def _b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unverified_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and payload of a compact JWS, without checking anything (for tests and messages)."""
    header, payload, _signature = token.split(".")
    return json.loads(_b64url_decode(header)), json.loads(_b64url_decode(payload))


def tamper_payload(token: str, change: Callable[[dict[str, Any]], None] | None = None) -> str:
    """The same header and signature over a changed payload: a token whose signature no longer matches."""
    header, payload, signature = token.split(".")
    claims = json.loads(_b64url_decode(payload))
    if change is None:
        claims["sub"] = str(claims.get("sub", "")) + "-tampered"
    else:
        change(claims)
    return ".".join([header, _b64url_encode(json.dumps(claims).encode()), signature])


def verify_jwt(token: str, key_set: Mapping[str, Any]) -> dict[str, Any]:
    """The claims of ``token`` when its RS256 signature verifies against ``key_set`` (a JWKS document).

    The header must name a ``kid`` found in the set, as LTI requires; expiry is checked by the caller so it
    can say precisely what is wrong.
    """
    try:
        header, _claims = unverified_parts(token)
    except (ValueError, UnicodeDecodeError) as error:
        raise PlatformError("The JWT is not a compact JWS.") from error
    if header.get("alg") != "RS256":
        raise PlatformError(f"The JWT must be signed with RS256, not {header.get('alg')!r}.")
    kid = header.get("kid")
    if not kid:
        raise PlatformError("The JWT header has no kid.")
    keys = jwk.JWKSet()
    keys.import_keyset(json.dumps(dict(key_set)))
    key = keys.get_key(kid)
    if key is None:
        raise PlatformError(f"No key with kid {kid!r} in the tool's JWKS.")
    try:
        verified = jws.JWS()
        verified.deserialize(token)
        verified.verify(key, alg="RS256")
    except JWException as error:
        raise PlatformError("The JWT signature does not verify against the tool's JWKS.") from error
    return json.loads(verified.payload)


# --------------------------------------------------------------------------------------------- people


@dataclass(frozen=True)
class LmsUser:
    """Someone on the platform. Personal fields are optional: a privacy-minded platform sends only ``sub``."""

    sub: str
    role: str
    """The Cadre role this person should get: ``designer``, ``manager``, ``learner`` or ``admin``."""
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    email: str | None = None
    mentees: tuple[str, ...] = ()
    """For managers: the subs of the learners they are responsible for (sent in ``role_scope_mentor``)."""
    title: str | None = None
    """Shown in the demo LMS next to the name (``Sales team lead``)."""

    @property
    def label(self) -> str:
        return self.name or " ".join(p for p in (self.given_name, self.family_name) if p) or self.sub

    def identity_claims(self) -> dict[str, str]:
        fields = {
            "name": self.name,
            "given_name": self.given_name,
            "family_name": self.family_name,
            "email": self.email,
        }
        return {key: value for key, value in fields.items() if value}


@dataclass(frozen=True)
class Activity:
    """A resource link in a course."""

    resource_link_id: str
    title: str
    description: str = ""
    custom: Mapping[str, str] = field(default_factory=dict)
    url: str | None = None
    """The tool URL a deep-linking response gave this link; launches target it."""
    line_item: str | None = None
    """The gradebook column made for the link (from the content item's ``lineItem``); launches name it."""


@dataclass
class Course:
    context_id: str
    label: str
    title: str
    people: list[LmsUser]
    activities: list[Activity]

    def person(self, sub: str) -> LmsUser:
        for person in self.people:
            if person.sub == sub:
                return person
        raise KeyError(f"nobody with sub {sub!r} in {self.title}")

    def first_with_role(self, role: str) -> LmsUser:
        for person in self.people:
            if person.role == role:
                return person
        raise KeyError(f"nobody with role {role!r} in {self.title}")

    def activity(self, resource_link_id: str) -> Activity:
        for activity in self.activities:
            if activity.resource_link_id == resource_link_id:
                return activity
        raise KeyError(f"no activity {resource_link_id!r} in {self.title}")


def demo_course() -> Course:
    """The demo's course: a designer, two managers each responsible for two learners, and an admin."""
    learners = [
        LmsUser(
            "learner-ana",
            "learner",
            "Ana Lima",
            "Ana",
            "Lima",
            "ana.lima@example.com",
            title="Account executive",
        ),
        LmsUser(
            "learner-ben",
            "learner",
            "Ben Okafor",
            "Ben",
            "Okafor",
            "ben.okafor@example.com",
            title="Account executive",
        ),
        LmsUser(
            "learner-chloe",
            "learner",
            "Chloé Martin",
            "Chloé",
            "Martin",
            "chloe.martin@example.com",
            title="Support specialist",
        ),
        LmsUser(
            "learner-dev",
            "learner",
            "Dev Patel",
            "Dev",
            "Patel",
            "dev.patel@example.com",
            title="Support specialist",
        ),
    ]
    people = [
        LmsUser(
            "designer-maya",
            "designer",
            "Maya Schmidt",
            "Maya",
            "Schmidt",
            "maya.schmidt@example.com",
            title="Learning designer",
        ),
        LmsUser(
            "manager-omar",
            "manager",
            "Omar Haddad",
            "Omar",
            "Haddad",
            "omar.haddad@example.com",
            mentees=(learners[0].sub, learners[1].sub),
            title="Sales team lead",
        ),
        LmsUser(
            "manager-rita",
            "manager",
            "Rita Nowak",
            "Rita",
            "Nowak",
            "rita.nowak@example.com",
            mentees=(learners[2].sub, learners[3].sub),
            title="Support team lead",
        ),
        *learners,
        LmsUser(
            "admin-sam",
            "admin",
            "Sam Admin",
            "Sam",
            "Admin",
            "sam.admin@example.com",
            title="LMS administrator",
        ),
    ]
    return Course(
        context_id="course-lcc-101",
        label="LCC-101",
        title="Leading Customer Conversations",
        people=people,
        activities=[
            Activity(
                "rl-practice-call",
                "Practice call with your manager",
                "Record a customer call; your manager gives feedback with the rubric.",
                {"activity": "practice_call"},
            ),
        ],
    )


# --------------------------------------------------------------------------------------------- platform


@dataclass(frozen=True)
class PlatformProfile:
    """How a family of LMSs shapes its launches."""

    name: str
    product_family_code: str
    family_code_field: str = "product_family_code"
    """Moodle sends ``family_code`` in ``tool_platform``; the spec and Canvas, ``product_family_code``."""
    supports_mentor: bool = True
    context_type: str = "http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"
    version: str = "1.0"


GENERIC: Final = PlatformProfile("Cadre demo LMS", "cadre-demo")
CANVAS_LIKE: Final = PlatformProfile("Canvas", "canvas", version="cloud")
MOODLE_LIKE: Final = PlatformProfile(
    "Moodle",
    "moodle",
    family_code_field="family_code",
    supports_mentor=False,
    context_type="CourseSection",
    version="2024100700",
)
PROFILES: Final[Mapping[str, PlatformProfile]] = {
    "generic": GENERIC,
    "canvas": CANVAS_LIKE,
    "moodle": MOODLE_LIKE,
}


@dataclass(frozen=True)
class ToolEndpoints:
    """Where the platform reaches the tool (Cadre)."""

    base_url: str

    @property
    def login_url(self) -> str:
        return self.base_url + "/lti/login"

    @property
    def launch_url(self) -> str:
        return self.base_url + "/lti/launch"

    @property
    def jwks_url(self) -> str:
        return self.base_url + "/lti/jwks"

    @property
    def redirect_uris(self) -> tuple[str, ...]:
        return (self.launch_url,)


@dataclass(frozen=True)
class ToolRegistration:
    """One registration of the tool on this platform: a client_id and its deployment."""

    client_id: str
    deployment_id: str
    tool: ToolEndpoints


@dataclass
class LaunchRequest:
    """A launch the platform is about to make: who, what, and any deliberate damage for negative tests.

    ``claims`` entries replace claims (short names allowed, see ``CLAIM_ALIASES``); ``omit`` removes them
    (a name, or a tuple path such as ``("resource_link", "id")``). ``signer`` replaces the platform's own
    signing (e.g. ``lambda claims: platform.sign(claims, kid=None)``); ``token_mutator`` changes the signed
    token (e.g. ``tamper_payload``).
    """

    user: LmsUser
    registration: ToolRegistration
    message_type: str = RESOURCE_LINK_REQUEST
    roles: tuple[str, ...] | None = None
    course: Course | None = None
    activity: Activity | None = None
    custom: Mapping[str, str] | None = None
    claims: Mapping[str, Any] = field(default_factory=dict)
    omit: Sequence[str | tuple[str, ...]] = ()
    signer: Callable[[dict[str, Any]], str] | None = None
    token_mutator: Callable[[str], str] | None = None
    deep_link_data: str | None = None
    target_link_uri: str | None = None
    message_hint: str = field(default_factory=lambda: secrets.token_urlsafe(16))


@dataclass(frozen=True)
class IssuedIdToken:
    """What the authorization endpoint answered for one login: kept so tests can inspect or replay it."""

    request: LaunchRequest
    id_token: str
    state: str
    nonce: str
    redirect_uri: str
    claims: dict[str, Any]


@dataclass(frozen=True)
class DeepLinkReturn:
    """A verified deep-linking response and the content items it carried."""

    registration: ToolRegistration
    claims: dict[str, Any]
    content_items: list[dict[str, Any]]
    request: LaunchRequest | None


@dataclass(frozen=True)
class AccessToken:
    token: str
    client_id: str
    scopes: tuple[str, ...]
    expires_at: float


def _resolve(name: str) -> str:
    return CLAIM_ALIASES.get(name, name)


def _apply_omissions(claims: dict[str, Any], omit: Iterable[str | tuple[str, ...]]) -> None:
    for path in omit:
        parts = (path,) if isinstance(path, str) else path
        target: Any = claims
        *parents, last = [_resolve(parts[0]), *parts[1:]]
        for part in parents:
            target = target.get(part) if isinstance(target, dict) else None
            if target is None:
                break
        if isinstance(target, dict):
            target.pop(last, None)


class LtiPlatform:
    """An LTI 1.3 platform: issuer, signing key, registrations of the tool, and the tokens it issues.

    Thread-safe for the little state it keeps (pending launches, issued tokens, deep-link returns,
    access tokens), because its endpoints are served by a threaded WSGI server.
    """

    def __init__(
        self,
        issuer: str,
        *,
        client_id: str,
        deployment_id: str,
        tool: ToolEndpoints,
        key: PlatformKey | None = None,
        profile: PlatformProfile = GENERIC,
        course: Course | None = None,
        base_url: str | None = None,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.base_url = (base_url or issuer).rstrip("/")
        """Where the platform's own endpoints are served (the issuer unless told otherwise)."""
        self.key = key or PlatformKey.generate()
        self.profile = profile
        self.course = course or demo_course()
        self.guid = str(uuid.uuid5(uuid.NAMESPACE_URL, self.issuer))
        self.registrations: dict[str, ToolRegistration] = {}
        self.add_registration(client_id, deployment_id, tool)
        self.default_client_id = client_id
        self._lock = threading.Lock()
        self._pending: dict[str, LaunchRequest] = {}
        self.issued: list[IssuedIdToken] = []
        self.deep_link_returns: list[DeepLinkReturn] = []
        self._deep_link_requests: dict[str, LaunchRequest] = {}
        self._seen_tool_nonces: set[str] = set()
        self._seen_assertion_ids: set[str] = set()
        self._access_tokens: dict[str, AccessToken] = {}
        self.scores: list[dict[str, Any]] = []
        self.line_items: list[dict[str, Any]] = []
        self.nrps_page_size: int | None = None
        """Members per roster page when the tool names no ``limit`` (None: all on one page)."""
        self._tool_jwks_fetcher: Callable[[str], Mapping[str, Any]] = _fetch_jwks

    # -- registrations and URLs

    def add_registration(self, client_id: str, deployment_id: str, tool: ToolEndpoints) -> ToolRegistration:
        """Register the tool (again) under another client_id, as Canvas does for each customer's key."""
        registration = ToolRegistration(client_id=client_id, deployment_id=deployment_id, tool=tool)
        self.registrations[client_id] = registration
        return registration

    @property
    def registration(self) -> ToolRegistration:
        return self.registrations[self.default_client_id]

    @property
    def client_id(self) -> str:
        return self.default_client_id

    @property
    def deployment_id(self) -> str:
        return self.registration.deployment_id

    def url(self, path: str) -> str:
        return self.base_url + path

    @property
    def auth_login_url(self) -> str:
        return self.url("/auth")

    @property
    def auth_token_url(self) -> str:
        return self.url("/token")

    @property
    def jwks_url(self) -> str:
        return self.url("/jwks")

    @property
    def deep_link_return_url(self) -> str:
        return self.url("/deep-link-return")

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        return {"keys": [self.key.public_jwk()]}

    def use_tool_jwks_fetcher(self, fetcher: Callable[[str], Mapping[str, Any]]) -> None:
        """Fetch the tool's JWKS some other way (e.g. through an in-process test client)."""
        self._tool_jwks_fetcher = fetcher

    # -- launches

    def lis_roles(self, role: str) -> tuple[str, ...]:
        if role == "manager" and not self.profile.supports_mentor:
            raise ValueError(
                f"{self.profile.name}-like platforms have no Mentor role: nobody launches as manager"
            )
        if role in LIS_ROLES_FOR:
            return LIS_ROLES_FOR[role]
        raise ValueError(f"unknown role {role!r}; use one of {sorted(LIS_ROLES_FOR)} or pass roles=")

    def prepare_launch(
        self,
        user: LmsUser | str,
        *,
        message_type: str = RESOURCE_LINK_REQUEST,
        client_id: str | None = None,
        activity: Activity | str | None = None,
        **options: Any,
    ) -> LaunchRequest:
        """Keep a launch under a fresh ``lti_message_hint``; the auth endpoint turns it into an id_token."""
        person = self.course.person(user) if isinstance(user, str) else user
        registration = self.registrations[client_id or self.default_client_id]
        if isinstance(activity, str):
            activity = self.course.activity(activity)
        if activity is None and message_type == RESOURCE_LINK_REQUEST and self.course.activities:
            activity = self.course.activities[0]
        request = LaunchRequest(
            user=person,
            registration=registration,
            message_type=message_type,
            course=options.pop("course", self.course),
            activity=activity,
            **options,
        )
        if request.roles is None:
            request.roles = self.lis_roles(person.role)  # fails now, not inside the auth endpoint
        if request.message_type == DEEP_LINKING_REQUEST and request.deep_link_data is None:
            request.deep_link_data = "dl-" + secrets.token_urlsafe(12)
        with self._lock:
            self._pending[request.message_hint] = request
            if request.deep_link_data:
                self._deep_link_requests[request.deep_link_data] = request
        return request

    def login_initiation(
        self, request: LaunchRequest, *, storage_target: str | None = None
    ) -> tuple[str, dict[str, str]]:
        """Where and what the platform posts to start the tool's OIDC login (third-party initiated login).

        ``storage_target`` (e.g. ``"_parent"``) offers the tool LTI Platform Storage, as Canvas does: only
        a page that answers the tool frame's postMessages (the demo LMS's launch page) may send it.
        """
        registration = request.registration
        fields = {
            "iss": self.issuer,
            "login_hint": request.user.sub,
            "target_link_uri": _target_link_uri(request),
            "lti_message_hint": request.message_hint,
            "client_id": registration.client_id,
            "lti_deployment_id": registration.deployment_id,
        }
        if storage_target:
            fields["lti_storage_target"] = storage_target
        return registration.tool.login_url, fields

    def build_claims(self, request: LaunchRequest, *, nonce: str, now: float | None = None) -> dict[str, Any]:
        """Every claim of the id_token for ``request``, before overrides and omissions."""
        issued_at = int(now if now is not None else time.time())
        registration = request.registration
        user = request.user
        course = request.course
        roles = list(request.roles if request.roles is not None else self.lis_roles(user.role))
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": user.sub,
            "aud": registration.client_id,
            "azp": registration.client_id,
            "exp": issued_at + ID_TOKEN_LIFETIME_SECONDS,
            "iat": issued_at,
            "nonce": nonce,
            **user.identity_claims(),
            CLAIM_MESSAGE_TYPE: request.message_type,
            CLAIM_VERSION: LTI_VERSION,
            CLAIM_DEPLOYMENT_ID: registration.deployment_id,
            CLAIM_TARGET_LINK_URI: _target_link_uri(request),
            CLAIM_ROLES: roles,
            CLAIM_TOOL_PLATFORM: {
                "guid": self.guid,
                "name": self.profile.name,
                "contact_email": "lms-admin@example.com",
                "url": self.base_url,
                self.profile.family_code_field: self.profile.product_family_code,
                "version": self.profile.version,
            },
            CLAIM_LAUNCH_PRESENTATION: {
                "document_target": "iframe",
                "return_url": self.url("/"),
                "locale": "en-GB",
            },
            CLAIM_LIS: {"person_sourcedid": f"sis:{user.sub}"},
        }
        if course is not None:
            claims[CLAIM_CONTEXT] = {
                "id": course.context_id,
                "label": course.label,
                "title": course.title,
                "type": [self.profile.context_type],
            }
            claims[CLAIM_LIS]["course_section_sourcedid"] = f"sis:{course.context_id}"
            claims[CLAIM_NRPS] = {
                "context_memberships_url": self.url(f"/api/contexts/{course.context_id}/memberships"),
                "service_versions": ["2.0"],
            }
            claims[CLAIM_AGS_ENDPOINT] = {
                "scope": [
                    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
                    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
                ],
                "lineitems": self.url(f"/api/contexts/{course.context_id}/lineitems"),
            }
            if request.activity is not None and request.activity.line_item:
                claims[CLAIM_AGS_ENDPOINT]["lineitem"] = request.activity.line_item
        if ROLE_MENTOR in roles and user.mentees:
            claims[CLAIM_ROLE_SCOPE_MENTOR] = list(user.mentees)
        if request.message_type == DEEP_LINKING_REQUEST:
            claims[CLAIM_DEEP_LINKING_SETTINGS] = {
                "deep_link_return_url": self.deep_link_return_url,
                "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["iframe", "window"],
                "accept_multiple": False,
                "auto_create": True,
                "data": request.deep_link_data,
            }
        elif request.activity is not None:
            claims[CLAIM_RESOURCE_LINK] = {
                "id": request.activity.resource_link_id,
                "title": request.activity.title,
                "description": request.activity.description,
            }
        custom = dict(request.activity.custom) if request.activity else {}
        custom.update(request.custom or {})
        if custom:
            claims[CLAIM_CUSTOM] = custom
        for name, value in request.claims.items():
            claims[_resolve(name)] = copy.deepcopy(value)
        _apply_omissions(claims, request.omit)
        return claims

    def sign(
        self,
        claims: Mapping[str, Any],
        *,
        key: PlatformKey | None = None,
        kid: str | None | KeepHeader = KEEP,
    ) -> str:
        """Sign with the platform key, or ``key`` (a wrong key keeps the platform's kid unless told)."""
        if key is not None and isinstance(kid, KeepHeader):
            kid = self.key.kid
        return sign_jwt(claims, key or self.key, kid=kid)

    def build_id_token(self, request: LaunchRequest, *, nonce: str, now: float | None = None) -> str:
        return self._signed(request, self.build_claims(request, nonce=nonce, now=now))

    def _signed(self, request: LaunchRequest, claims: dict[str, Any]) -> str:
        token = request.signer(claims) if request.signer else self.sign(claims)
        return request.token_mutator(token) if request.token_mutator else token

    def pending_launch(self, message_hint: str) -> LaunchRequest | None:
        with self._lock:
            return self._pending.get(message_hint)

    def authorize(self, params: Mapping[str, str]) -> IssuedIdToken:
        """The OIDC authorization endpoint's decision: an id_token for the pending launch, or a refusal."""
        required = (
            "scope",
            "response_type",
            "client_id",
            "redirect_uri",
            "login_hint",
            "state",
            "nonce",
            "response_mode",
            "prompt",
        )
        missing = [name for name in required if not params.get(name)]
        if missing:
            raise PlatformError(f"Missing authentication request parameter(s): {', '.join(missing)}.")
        if "openid" not in params["scope"].split():
            raise PlatformError("scope must include openid.", oauth_error="invalid_scope")
        if params["response_type"] != "id_token":
            raise PlatformError("response_type must be id_token.", oauth_error="unsupported_response_type")
        if params["response_mode"] != "form_post":
            raise PlatformError("response_mode must be form_post.")
        if params["prompt"] != "none":
            raise PlatformError("prompt must be none.")
        registration = self.registrations.get(params["client_id"])
        if registration is None:
            raise PlatformError(
                f"Unknown client_id {params['client_id']!r}.", oauth_error="unauthorized_client"
            )
        if params["redirect_uri"] not in registration.tool.redirect_uris:
            raise PlatformError(
                f"redirect_uri {params['redirect_uri']!r} is not registered for this tool.",
                oauth_error="invalid_request_uri",
            )
        request = self.pending_launch(params.get("lti_message_hint", ""))
        if request is None:
            raise PlatformError("Unknown or missing lti_message_hint: start the launch from the course page.")
        if request.registration.client_id != registration.client_id:
            raise PlatformError(
                "This launch was started for another client_id.", oauth_error="unauthorized_client"
            )
        if params["login_hint"] != request.user.sub:
            raise PlatformError(
                "login_hint does not match the user who started the launch.", oauth_error="login_required"
            )
        claims = self.build_claims(request, nonce=params["nonce"])
        token = self._signed(request, claims)
        issued = IssuedIdToken(
            request=request,
            id_token=token,
            state=params["state"],
            nonce=params["nonce"],
            redirect_uri=params["redirect_uri"],
            claims=claims,
        )
        with self._lock:
            self.issued.append(issued)
        return issued

    # -- what the tool sends back

    def tool_jwks(self, registration: ToolRegistration) -> Mapping[str, Any]:
        return self._tool_jwks_fetcher(registration.tool.jwks_url)

    def _registration_for(self, claims: Mapping[str, Any]) -> ToolRegistration:
        registration = self.registrations.get(str(claims.get("iss", "")))
        if registration is None:
            raise PlatformError(
                f"iss {claims.get('iss')!r} is not a client_id registered on this platform.",
                401,
                oauth_error="invalid_client",
            )
        return registration

    def verify_deep_link_response(self, token: str, now: float | None = None) -> DeepLinkReturn:
        """Check a tool's ``LtiDeepLinkingResponse`` like a strict platform and record its content items."""
        _header, unverified = unverified_parts(token)
        registration = self._registration_for(unverified)
        claims = verify_jwt(token, self.tool_jwks(registration))
        _check_times(claims, now)
        audiences = claims.get("aud")
        audiences = [audiences] if isinstance(audiences, str) else list(audiences or [])
        if self.issuer not in audiences:
            raise PlatformError(f"aud {claims.get('aud')!r} does not name this platform ({self.issuer}).")
        if claims.get(CLAIM_DEPLOYMENT_ID) != registration.deployment_id:
            raise PlatformError(
                f"deployment_id {claims.get(CLAIM_DEPLOYMENT_ID)!r} is not {registration.deployment_id!r}."
            )
        if claims.get(CLAIM_MESSAGE_TYPE) != DEEP_LINKING_RESPONSE:
            raise PlatformError(f"message_type must be {DEEP_LINKING_RESPONSE}.")
        if claims.get(CLAIM_VERSION) != LTI_VERSION:
            raise PlatformError(f"version must be {LTI_VERSION}.")
        nonce = claims.get("nonce")
        if not nonce:
            raise PlatformError("The deep-linking response has no nonce.")
        data = claims.get(CLAIM_DL_DATA)
        with self._lock:
            if nonce in self._seen_tool_nonces:
                raise PlatformError("This deep-linking response was already received (nonce reused).")
            request = self._deep_link_requests.get(data) if data else None
            if request is None:
                raise PlatformError("The data claim does not echo a deep-linking request of this platform.")
            if request.registration.client_id != registration.client_id:
                raise PlatformError("The data claim belongs to another registration.")
            self._seen_tool_nonces.add(nonce)
        items = claims.get(CLAIM_CONTENT_ITEMS) or []
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise PlatformError("content_items must be a list of objects.")
        received = DeepLinkReturn(
            registration=registration, claims=claims, content_items=items, request=request
        )
        with self._lock:
            self.deep_link_returns.append(received)
            for item in items:
                if item.get("type") == "ltiResourceLink" and request.course is not None:
                    activity = _activity_from_item(item)
                    if isinstance(item.get("lineItem"), dict):
                        activity = self._with_line_item(request.course, activity, item["lineItem"])
                    request.course.activities.append(activity)
        return received

    def _with_line_item(self, course: Course, activity: Activity, line_item: Mapping[str, Any]) -> Activity:
        """Make the gradebook column a content item asks for, as Moodle and Canvas do (called locked)."""
        column = {
            key: line_item[key] for key in ("scoreMaximum", "label", "resourceId", "tag") if key in line_item
        }
        column["id"] = self.url(f"/api/contexts/{course.context_id}/lineitems/{len(self.line_items) + 1}")
        column["resourceLinkId"] = activity.resource_link_id
        column.setdefault("label", activity.title)
        self.line_items.append(column)
        return dataclasses.replace(activity, line_item=column["id"])

    def issue_access_token(self, form: Mapping[str, str], now: float | None = None) -> AccessToken:
        """OAuth 2 client_credentials grant with a JWT assertion signed by the tool (LTI security)."""
        if form.get("grant_type") != "client_credentials":
            raise PlatformError(
                "grant_type must be client_credentials.", oauth_error="unsupported_grant_type"
            )
        if form.get("client_assertion_type") != CLIENT_ASSERTION_TYPE:
            raise PlatformError(f"client_assertion_type must be {CLIENT_ASSERTION_TYPE}.")
        assertion = form.get("client_assertion", "")
        if not assertion:
            raise PlatformError("client_assertion is missing.")
        try:
            _header, unverified = unverified_parts(assertion)
        except (ValueError, UnicodeDecodeError) as error:
            raise PlatformError(
                "client_assertion is not a JWT.", 401, oauth_error="invalid_client"
            ) from error
        registration = self._registration_for(unverified)
        try:
            claims = verify_jwt(assertion, self.tool_jwks(registration))
            _check_times(claims, now)
        except PlatformError as error:
            raise PlatformError(error.message, 401, oauth_error="invalid_client") from error
        if claims.get("sub") != registration.client_id:
            raise PlatformError("sub must equal iss (the client_id).", 401, oauth_error="invalid_client")
        audiences = claims.get("aud")
        audiences = [audiences] if isinstance(audiences, str) else list(audiences or [])
        if self.auth_token_url not in audiences and self.issuer not in audiences:
            raise PlatformError("aud must be the token endpoint.", 401, oauth_error="invalid_client")
        jti = claims.get("jti")
        if not jti:
            raise PlatformError("The assertion has no jti.", 401, oauth_error="invalid_client")
        with self._lock:
            if jti in self._seen_assertion_ids:
                raise PlatformError(
                    "This assertion was already used (jti reused).", 401, oauth_error="invalid_client"
                )
            self._seen_assertion_ids.add(jti)
        scopes = tuple(form.get("scope", "").split())
        token = AccessToken(
            token=secrets.token_urlsafe(24),
            client_id=registration.client_id,
            scopes=scopes,
            expires_at=(now or time.time()) + 3600,
        )
        with self._lock:
            self._access_tokens[token.token] = token
        return token

    def check_access_token(self, authorization: str, scope: str, now: float | None = None) -> AccessToken:
        scheme, _, value = authorization.partition(" ")
        with self._lock:
            token = self._access_tokens.get(value) if scheme.lower() == "bearer" else None
        if token is None or token.expires_at < (now or time.time()):
            raise PlatformError("A valid bearer token is required.", 401, oauth_error="invalid_token")
        if scope not in token.scopes:
            raise PlatformError(f"The token does not grant {scope}.", 403, oauth_error="insufficient_scope")
        return token


def _target_link_uri(request: LaunchRequest) -> str:
    if request.target_link_uri:
        return request.target_link_uri
    if request.message_type == RESOURCE_LINK_REQUEST and request.activity and request.activity.url:
        return request.activity.url
    return request.registration.tool.launch_url


def _check_times(claims: Mapping[str, Any], now: float | None, leeway: int = 60) -> None:
    current = now if now is not None else time.time()
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or not isinstance(iat, int | float):
        raise PlatformError("The JWT must carry numeric exp and iat.")
    if exp < current - leeway:
        raise PlatformError("The JWT has expired.")
    if iat > current + leeway:
        raise PlatformError("The JWT was issued in the future (iat).")


def _activity_from_item(item: Mapping[str, Any]) -> Activity:
    custom = item.get("custom") if isinstance(item.get("custom"), dict) else {}
    return Activity(
        resource_link_id="rl-" + secrets.token_hex(6),
        title=str(item.get("title") or "Cadre activity"),
        description=str(item.get("text") or ""),
        custom={str(k): str(v) for k, v in (custom or {}).items()},
        url=str(item["url"]) if item.get("url") else None,
    )


def _fetch_jwks(url: str) -> Mapping[str, Any]:
    import httpx

    try:
        response = httpx.get(url, timeout=10.0)
        response.raise_for_status()
        return response.json()
    except (httpx.HTTPError, ValueError) as error:
        raise PlatformError(f"Could not fetch the tool's JWKS from {url}: {error}", 502) from error
