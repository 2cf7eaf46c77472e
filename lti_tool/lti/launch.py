"""Validating an LTI 1.3 launch (the id_token the platform posts to ``/lti/launch``).

pylti1p3's ``MessageLaunch.validate`` is replaced, not extended, because as shipped it accepts a replayed
id_token + state (it re-validates the state from its own cache and never consumes the nonce), looks
registrations up by issuer alone unless told otherwise, ignores ``aud``/``azp`` and allows no clock skew.
:meth:`CadreMessageLaunch.validate` checks, in this order, each failure with its own reason
(:mod:`lti_tool.lti.errors`):

1. the request carries ``id_token`` and ``state``; the token is a readable JWT with ``iss``;
2. the state is one Cadre signed (:func:`~lti_tool.lti.storage.read_state`) within the login lifetime; the
   registration it names (the login's issuer **and client_id**) has the token's issuer; the token's
   deployment is looked up in the same query (:func:`~lti_tool.lti.oidc.find_registration`);
3. the signature, with the platform key named by ``kid`` (RS256 only; key set refetched on an unknown kid,
   rate limited), then ``exp``/``iat`` with ``settings.clock_skew_seconds`` of leeway;
4. ``aud`` contains the login's client_id; with several audiences, ``azp`` is that client_id;
5. the login (:class:`~lti_tool.lti.storage.LoginState`) is consumed: deleted as it is read, in one
   statement, after every check that may fetch the platform's keys (no request leaves inside a transaction
   that wrote), so a second launch with that state finds none ("already used"), and the nonce is the
   login's, so it is used once too. A refused launch rolls the deletion back;
6. the launch is bound to the browser: it sent back the state cookie set at login or, when the login used
   LTI Platform Storage (:mod:`.oidc`), the ``lti_storage_secret`` the platform's window kept for it
   (compared in constant time). Without the cookie and without that field, nothing is consumed or stored
   (the login is only read):
   :class:`PlatformStorageNeeded` makes the view answer with a page that asks the platform for the secret
   (``lti.get_data``) and posts the launch again with it;
7. LTI version 1.3.0, a message type Cadre handles, a registered deployment, ``sub``, ``roles``, and
   ``resource_link.id`` or ``deep_linking_settings`` as the message type requires; pylti1p3's own
   message validators run last as a backstop.

The rest of pylti1p3's ``MessageLaunch`` (deep linking, AGS, NRPS) works on the validated or restored launch.
"""

from __future__ import annotations

import hmac
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import jwt
from flask import current_app
from pylti1p3.contrib.flask import FlaskMessageLaunch, FlaskRequest, FlaskSessionService
from pylti1p3.deep_link import DeepLink
from pylti1p3.exception import LtiException
from pylti1p3.message_validators import get_validators
from sqlalchemy.orm import Session

from lti_tool.lti.errors import LaunchRejected
from lti_tool.lti.oidc import CadreCookieService, PlatformStorage, find_registration, new_tab_login_url
from lti_tool.lti.registration import DatabaseToolConf, PlatformKeys
from lti_tool.lti.services import NO_REQUESTS_SESSION, CadreServiceConnector
from lti_tool.lti.storage import DatabaseDataStorage, LoginState, read_state
from lti_tool.models import Deployment, Launch, Platform
from lti_tool.settings import Settings
from lti_tool.states import MessageType

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
CLAIM_MESSAGE_TYPE = CLAIM + "message_type"
CLAIM_VERSION = CLAIM + "version"
CLAIM_DEPLOYMENT_ID = CLAIM + "deployment_id"
CLAIM_ROLES = CLAIM + "roles"
CLAIM_RESOURCE_LINK = CLAIM + "resource_link"
CLAIM_CONTEXT = CLAIM + "context"
CLAIM_CUSTOM = CLAIM + "custom"
CLAIM_ROLE_SCOPE_MENTOR = CLAIM + "role_scope_mentor"
CLAIM_TOOL_PLATFORM = CLAIM + "tool_platform"
CLAIM_DEEP_LINKING_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"

RESOURCE_LINK_REQUEST = MessageType.RESOURCE_LINK
DEEP_LINKING_REQUEST = MessageType.DEEP_LINKING
SUPPORTED_MESSAGE_TYPES = (RESOURCE_LINK_REQUEST, DEEP_LINKING_REQUEST)
LTI_VERSION = "1.3.0"
ACCEPTED_ALGORITHMS = ("RS256",)
STORAGE_SECRET_FIELD = "lti_storage_secret"  # noqa: S105 - a form field name


@dataclass(frozen=True)
class ValidatedLaunch:
    platform: Platform
    deployment: Deployment
    claims: dict[str, Any]

    @property
    def message_type(self) -> str:
        return self.claims[CLAIM_MESSAGE_TYPE]


class PlatformStorageNeeded(Exception):  # noqa: N818 - a request for one more step, not an error
    """The launch came without the state cookie, from a login that used LTI Platform Storage: the view
    answers with a page that fetches the login's secret from the platform's window and posts again."""

    def __init__(self, *, id_token: str, state: str, storage: PlatformStorage, new_tab_url: str) -> None:
        super().__init__("launch awaiting the platform storage secret")
        self.id_token = id_token
        self.state = state
        self.storage = storage
        self.new_tab_url = new_tab_url


class CadreDeepLink(DeepLink):
    """pylti1p3's deep link, leaving out the ``data`` claim when the request had none (spec: echo if sent)."""

    def get_message_jwt(self, resources: Any) -> dict[str, object]:
        message = super().get_message_jwt(resources)
        if message.get("https://purl.imsglobal.org/spec/lti-dl/claim/data") is None:
            message.pop("https://purl.imsglobal.org/spec/lti-dl/claim/data", None)
        return message


class CadreMessageLaunch(FlaskMessageLaunch):
    validated: ValidatedLaunch | None = None

    def __init__(self, request: FlaskRequest, tool_conf: DatabaseToolConf, session: Session,
                 settings: Settings, platform_keys: PlatformKeys | None = None) -> None:
        self._db = session
        self._settings = settings
        self._platform_keys = platform_keys
        self._storage = DatabaseDataStorage(session, settings.nonce_lifetime_seconds)
        session_service = FlaskSessionService(request)
        session_service.set_data_storage(self._storage)
        super().__init__(request, tool_conf, session_service=session_service,
                         cookie_service=CadreCookieService(request),
                         requests_session=NO_REQUESTS_SESSION,  # services go through lti_tool.outbound
                         service_connector_cls=CadreServiceConnector)

    @classmethod
    def restore(cls, launch: Launch, tool_conf: DatabaseToolConf, session: Session,
                settings: Settings) -> CadreMessageLaunch:
        """A launch validated earlier (a :class:`Launch` row), for deep linking and the LTI services."""
        message_launch = cls(FlaskRequest(), tool_conf, session, settings)
        message_launch.set_launch_id(launch.id).set_auto_validation(enable=False).set_restored()
        message_launch.set_jwt({"body": launch.claims})  # type: ignore[typeddict-item]
        message_launch._registration = tool_conf.find_registration_by_params(
            launch.platform.issuer, launch.platform.client_id
        )
        if message_launch._registration is None:
            raise LaunchRejected("unknown_registration", issuer=launch.platform.issuer,
                                 client_id=launch.platform.client_id)
        return message_launch

    def get_deep_link(self) -> DeepLink:
        assert self._registration is not None, "Registration not yet set"
        body = self._jwt.get("body", {})
        return CadreDeepLink(self._registration, body[CLAIM_DEPLOYMENT_ID],  # type: ignore[literal-required]
                             body[CLAIM_DEEP_LINKING_SETTINGS])  # type: ignore[literal-required]

    # --- validation ---------------------------------------------------------------------------------

    def validate(self) -> CadreMessageLaunch:
        assert self._platform_keys is not None, "validating a launch needs the platform keys"
        if self._restored:
            raise LtiException("A restored launch can't be validated.")
        id_token = self._get_request_param("id_token")
        if not id_token:
            raise LaunchRejected("missing_id_token")
        state = self._get_request_param("state")
        if not state:
            raise LaunchRejected("missing_state")
        header, body = self._read_unverified(id_token)
        iss = body.get("iss")
        if not isinstance(iss, str) or not iss:
            raise LaunchRejected("missing_claim", claim="iss", message_type=_message_type(body))

        signed = read_state(state, current_app.config["SECRET_KEY"])
        if signed is None or time.time() - signed.issued_at >= self._settings.nonce_lifetime_seconds:
            raise LaunchRejected("unknown_state", issuer=iss, client_id=_first_audience(body))
        deployment_id = body.get(CLAIM_DEPLOYMENT_ID)  # not verified yet: only looked up with the platform
        found = find_registration(self._db, platform_id=signed.platform_id, deployment_id=deployment_id)
        if found is None:  # removed since the login
            raise LaunchRejected("unknown_registration", issuer=iss, client_id=_first_audience(body))
        registration, deployment = found
        platform = registration.platform
        if platform.issuer != iss:
            raise LaunchRejected("issuer_mismatch", issuer=iss, login_issuer=platform.issuer,
                                 client_id=platform.client_id)

        claims = self._verify_signature(id_token, header, platform)
        self._check_audience(claims, platform)
        has_cookie = self._cookie_service.get_cookie(state) == state
        storage_secret = self._get_request_param(STORAGE_SECRET_FIELD)
        # A launch that brings a binding to its browser (cookie or Platform Storage secret) consumes the
        # login; one with neither only reads it, to answer with the page that fetches the secret.
        bound = has_cookie or storage_secret is not None
        login = (LoginState.consume if bound else LoginState.load)(self._storage, state)
        if login is None or login.platform_id != platform.id:  # consumed by an earlier launch
            raise LaunchRejected("nonce_used", issuer=platform.issuer, client_id=platform.client_id)
        self._check_nonce(claims, login, platform)
        storage = PlatformStorage.of(login.storage_target, registration.get_auth_login_url())
        if not bound and login.storage_secret and storage:
            raise PlatformStorageNeeded(id_token=id_token, state=state, storage=storage,
                                        new_tab_url=new_tab_login_url(self._settings, login))
        if storage_secret is not None:
            if not _same_secret(storage_secret, login.storage_secret):
                raise LaunchRejected("storage_mismatch", issuer=iss, client_id=platform.client_id,
                                     new_tab_url=new_tab_login_url(self._settings, login))
        elif not has_cookie:
            raise LaunchRejected("cookies_blocked", issuer=iss, client_id=platform.client_id,
                                 new_tab_url=new_tab_login_url(self._settings, login))
        deployment = self._check_message(claims, platform, (deployment_id, deployment))

        self._jwt = {"header": header, "body": claims}  # type: ignore[typeddict-item]
        self._registration = registration
        self._validated = True
        self.validated = ValidatedLaunch(platform=platform, deployment=deployment, claims=claims)
        return self

    def _read_unverified(self, id_token: str) -> tuple[dict[str, Any], dict[str, Any]]:
        parts = id_token.split(".")
        if len(parts) != 3:
            raise LaunchRejected("malformed_token", detail="a JWT has three dot-separated parts")
        try:
            header = json.loads(self.urlsafe_b64decode(parts[0]))
            body = json.loads(self.urlsafe_b64decode(parts[1]))
        except (ValueError, RecursionError) as error:  # RecursionError: absurdly nested JSON
            raise LaunchRejected("malformed_token", detail="header or body is not base64url JSON") from error
        if not isinstance(header, dict) or not isinstance(body, dict):
            raise LaunchRejected("malformed_token", detail="header and body must be JSON objects")
        return header, body

    def _verify_signature(self, id_token: str, header: dict[str, Any], platform: Platform) -> dict[str, Any]:
        assert self._platform_keys is not None
        who = {"issuer": platform.issuer, "client_id": platform.client_id}
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise LaunchRejected("missing_kid", **who)
        alg = header.get("alg")
        if alg not in ACCEPTED_ALGORITHMS:
            raise LaunchRejected("unsupported_alg", alg=alg or "no algorithm", **who)
        jwk = self._platform_keys.key_for(platform, kid)
        try:
            key = jwt.PyJWK(jwk, algorithm=alg).key
            return jwt.decode(
                id_token, key, algorithms=list(ACCEPTED_ALGORITHMS), leeway=self._settings.clock_skew_seconds,
                options={"verify_aud": False, "require": ["exp", "iat"]},
            )
        except jwt.InvalidSignatureError as error:
            raise LaunchRejected("bad_signature", kid=kid, **who) from error
        except jwt.ExpiredSignatureError as error:
            raise LaunchRejected("expired_token", **who) from error
        except jwt.ImmatureSignatureError as error:
            raise LaunchRejected("token_from_future", **who) from error
        except jwt.MissingRequiredClaimError as error:
            raise LaunchRejected("missing_claim", claim=error.claim, message_type="launch", **who) from error
        except (jwt.PyJWKError, jwt.InvalidKeyError) as error:
            raise LaunchRejected("unknown_kid", kid=kid, jwks_url=platform.key_set_url, **who) from error
        except jwt.InvalidTokenError as error:
            raise LaunchRejected("malformed_token", detail=str(error), **who) from error

    def _check_audience(self, claims: dict[str, Any], platform: Platform) -> None:
        who = {"issuer": platform.issuer, "client_id": platform.client_id}
        aud = claims.get("aud")
        audiences = [aud] if isinstance(aud, str) else aud
        if not audiences or not isinstance(audiences, list):
            raise LaunchRejected("missing_claim", claim="aud", message_type=_message_type(claims), **who)
        if platform.client_id not in audiences:
            raise LaunchRejected("audience_mismatch", audience=", ".join(map(str, audiences)), **who)
        azp = claims.get("azp")
        if (len(audiences) > 1 or azp is not None) and azp != platform.client_id:
            raise LaunchRejected("azp_mismatch", azp=azp or "missing", **who)

    def _check_nonce(self, claims: dict[str, Any], login: LoginState, platform: Platform) -> None:
        """The token's nonce is its login's (used once because the login is consumed: see 5. above)."""
        who = {"issuer": platform.issuer, "client_id": platform.client_id}
        nonce = claims.get("nonce")
        if not isinstance(nonce, str) or not nonce:
            raise LaunchRejected("missing_claim", claim="nonce", message_type=_message_type(claims), **who)
        if not hmac.compare_digest(nonce.encode(), login.nonce.encode()):
            raise LaunchRejected("nonce_mismatch", **who)

    def _check_message(self, claims: dict[str, Any], platform: Platform,
                       looked_up: tuple[object, Deployment | None]) -> Deployment:
        """The claims Cadre needs; ``looked_up``: the deployment found with the platform, and its id."""
        who = {"issuer": platform.issuer, "client_id": platform.client_id}
        message_type = claims.get(CLAIM_MESSAGE_TYPE)
        shown_type = message_type if isinstance(message_type, str) and message_type else "launch"

        def missing(claim: str) -> LaunchRejected:
            return LaunchRejected("missing_claim", claim=claim, message_type=shown_type, **who)

        version = claims.get(CLAIM_VERSION)
        if version is None:
            raise missing(CLAIM_VERSION)
        if version != LTI_VERSION:
            raise LaunchRejected("wrong_version", version=version, **who)
        if not message_type:
            raise missing(CLAIM_MESSAGE_TYPE)
        if message_type not in SUPPORTED_MESSAGE_TYPES:
            raise LaunchRejected("unsupported_message_type", message_type=message_type, **who)
        deployment_id = claims.get(CLAIM_DEPLOYMENT_ID)
        if not isinstance(deployment_id, str) or not deployment_id:
            raise missing(CLAIM_DEPLOYMENT_ID)
        looked_up_id, deployment = looked_up
        if deployment_id != looked_up_id:  # cannot happen (same token), but never trust a mismatch
            tool_conf: DatabaseToolConf = self._tool_config
            deployment = tool_conf.find_deployment_row(platform.id, deployment_id)
        if deployment is None:
            raise LaunchRejected("unknown_deployment", deployment_id=deployment_id, **who)
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub:
            raise missing("sub")
        roles = claims.get(CLAIM_ROLES)
        if roles is None:
            raise missing(CLAIM_ROLES)
        if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
            raise LaunchRejected("invalid_claim", claim=CLAIM_ROLES, detail="not a list of role URIs", **who)
        context = claims.get(CLAIM_CONTEXT)
        if context is not None and not (isinstance(context, dict) and context.get("id")):
            raise LaunchRejected("invalid_claim", claim=CLAIM_CONTEXT, detail="it has no id", **who)
        if message_type == RESOURCE_LINK_REQUEST:
            link = claims.get(CLAIM_RESOURCE_LINK)
            if not isinstance(link, dict) or not link.get("id"):
                raise missing(CLAIM_RESOURCE_LINK + " id")
        else:
            settings = claims.get(CLAIM_DEEP_LINKING_SETTINGS)
            if not isinstance(settings, dict) or not settings:
                raise missing(CLAIM_DEEP_LINKING_SETTINGS)
            return_url = settings.get("deep_link_return_url")
            if not return_url:
                raise missing(CLAIM_DEEP_LINKING_SETTINGS + " deep_link_return_url")
            if not _is_http_url(return_url):
                # Cadre's page auto-posts the response there: a javascript: or data: URL would run in
                # Cadre's origin.
                raise LaunchRejected("invalid_deep_linking_settings",
                                     detail="deep_link_return_url is not an absolute http(s) URL", **who)
            accept_types = settings.get("accept_types")
            if not isinstance(accept_types, list) or "ltiResourceLink" not in accept_types:
                raise LaunchRejected("invalid_deep_linking_settings",
                                     detail="the platform does not accept ltiResourceLink items here", **who)
        for validator in get_validators():
            if validator.can_validate(claims):
                try:
                    validator.validate(claims)
                except LtiException as error:
                    reason = ("invalid_deep_linking_settings" if message_type == DEEP_LINKING_REQUEST
                              else "invalid_claim")
                    raise LaunchRejected(reason, claim=message_type, detail=str(error), **who) from error
        return deployment


def _is_http_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        parts = urlsplit(value)
        return parts.scheme in {"http", "https"} and bool(parts.hostname)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False


def _same_secret(sent: str, kept: str | None) -> bool:
    """The Platform Storage secret the launch brought back is the one its login made (constant time)."""
    if not kept or not sent:
        return False
    return hmac.compare_digest(sent.encode(), kept.encode())


def _message_type(body: dict[str, Any]) -> str:
    value = body.get(CLAIM_MESSAGE_TYPE)
    return value if isinstance(value, str) and value else "launch"


def _first_audience(body: dict[str, Any]) -> str | None:
    aud = body.get("aud")
    if isinstance(aud, list):
        return str(aud[0]) if aud else None
    return aud if isinstance(aud, str) else None
