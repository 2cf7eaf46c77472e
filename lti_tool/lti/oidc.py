"""OIDC third-party login initiation (the first leg of every launch), on top of pylti1p3.

What Cadre changes from pylti1p3's defaults, and why:

* every cookie is ``SameSite=None; Secure; Partitioned`` (pylti1p3 sets ``Secure`` only on HTTPS
  requests; browsers accept Secure cookies from ``http://localhost`` and ``127.0.0.1`` too, and Cadre is
  served over HTTPS anywhere else);
* one row, a :class:`~lti_tool.lti.storage.LoginState` under a signed ``state``, remembers the nonce and
  which registration (issuer **and** client_id) began the login, so the launch can check the token's
  ``aud``, and consumes it (the nonce with it) in one statement;
* the registration and the deployment the login names are found with one query
  (:func:`find_registration`);
* a login without ``client_id`` is accepted only when the issuer has a single registration;
* every refusal is a :class:`~lti_tool.lti.errors.LaunchRejected` with its own message.

When the login carries ``lti_storage_target`` (Canvas; the 1EdTech LTI Client Side postMessages / Platform
Storage API), the state cookie is still set, and the login also makes a random ``storage_secret`` (kept in
the :class:`~lti_tool.lti.storage.LoginState`). Instead of a 302, the login answers with a small page
(``lti/storage_login.html``) that asks the platform's window to keep the secret (``lti.put_data``) and then
goes on to the platform's authorization URL. A launch that comes back without the state cookie is then
bound to the browser by the secret the platform gives back (``lti.get_data``, see :mod:`.launch`). The
secret is only ever in that page and in the platform window's storage: never in a URL, never in a log.
Without a storage target, a launch whose state cookie the browser refused answers with a page that reopens
Cadre in a new tab (see ``cookies_blocked`` in :mod:`.errors`).
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import Response, current_app, make_response, render_template
from pylti1p3.contrib.flask import FlaskCookieService, FlaskOIDCLogin, FlaskRequest, FlaskSessionService
from pylti1p3.contrib.flask.redirect import FlaskRedirect
from sqlalchemy import Select, and_, bindparam, select
from sqlalchemy.orm import Session

from lti_tool.lti.errors import LaunchRejected
from lti_tool.lti.registration import CadreRegistration, DatabaseToolConf
from lti_tool.lti.storage import DatabaseDataStorage, LoginState, new_state
from lti_tool.models import Deployment, Platform
from lti_tool.security import origin_of
from lti_tool.settings import Settings

STATE_COOKIE_PREFIX = "lti1p3-"
LOGIN_PARAMS = ("iss", "login_hint", "target_link_uri", "lti_message_hint", "lti_deployment_id", "client_id",
                "lti_storage_target")
STORAGE_KEY_PREFIX = "cadre_state_"
"""Platform Storage key of a login's secret: this prefix + the state."""
STORAGE_TARGET_MAX_LENGTH = 255


def storage_key(state: str) -> str:
    return STORAGE_KEY_PREFIX + state


@dataclass(frozen=True)
class PlatformStorage:
    """Where the pages of a Platform Storage login or launch post their messages."""

    target: str
    """``_parent`` or the name of a frame of the parent window (Canvas: ``post_message_forwarding``)."""
    origin: str
    """The platform's origin: that of its OIDC authorization URL (the spec's choice)."""

    @classmethod
    def of(cls, target: str | None, auth_login_url: str | None) -> PlatformStorage | None:
        if not target or len(target) > STORAGE_TARGET_MAX_LENGTH:
            return None
        origin = origin_of(auth_login_url or "")
        return cls(target=target, origin=origin) if origin else None

    def page_context(self, state: str) -> dict[str, str]:
        return {"storage_target": self.target, "platform_origin": self.origin,
                "storage_key": storage_key(state)}


class StorageLoginPage(FlaskRedirect):
    """The login's answer when the platform offers Platform Storage: a page that stores the secret in the
    platform's window, then goes to the authorization URL (with the state cookie set, as for the 302)."""

    def __init__(self, location: str, cookie_service: CadreCookieService, storage: PlatformStorage,
                 state: str, secret: str) -> None:
        super().__init__(location, cookie_service)
        self._page_context = {**storage.page_context(state), "storage_secret": secret,
                              "message_id": secrets.token_urlsafe(12)}

    def do_redirect(self) -> Response:
        html = render_template("lti/storage_login.html", auth_url=self.get_redirect_url(),
                               **self._page_context)
        response = make_response(html, 200)
        response.headers["Cache-Control"] = "no-store"
        return self._process_response(response)

    def do_js_redirect(self) -> Response:
        return self.do_redirect()


class CadreCookieService(FlaskCookieService):
    """pylti1p3's cookie service, with the flags a cookie needs inside a cross-site iframe."""

    def update_response(self, response: Response) -> None:
        for key, cookie in self._cookie_data_to_set.items():
            response.set_cookie(
                key, str(cookie["value"]), max_age=cookie["exp"], path="/", secure=True, httponly=True,
                samesite="None", partitioned=True,
            )

    @staticmethod
    def state_cookie_name(state: str) -> str:
        return STATE_COOKIE_PREFIX + state

    @classmethod
    def forget_state(cls, response: Response, state: str) -> None:
        """Drop the state cookie once its launch is accepted: it is single-use, and a browser that launches
        often would otherwise send every past login's cookie with each request until they expire."""
        response.delete_cookie(cls.state_cookie_name(state), path="/", secure=True, httponly=True,
                               samesite="None", partitioned=True)


def find_registration(session: Session, *, platform_id: int | None = None,
                      issuer_and_client: tuple[str, str] | None = None,
                      deployment_id: object = None) -> tuple[CadreRegistration, Deployment | None] | None:
    """The registration of ``platform_id`` (or of an issuer and client id) and, when ``deployment_id`` is
    a string, its deployment of that id (None if it has none): one SELECT, where :class:`DatabaseToolConf`
    takes two."""
    by_id = platform_id is not None
    if by_id:
        params: dict[str, Any] = {"platform_id": platform_id}
    else:
        assert issuer_and_client is not None, "a registration is found by platform id or issuer and client"
        params = {"issuer": issuer_and_client[0], "client_id": issuer_and_client[1]}
    if not isinstance(deployment_id, str) or not deployment_id:
        platform = session.execute(_registration_lookup(by_id, with_deployment=False), params).scalar()
        return (CadreRegistration(platform, session), None) if platform is not None else None
    row = session.execute(_registration_lookup(by_id, with_deployment=True),
                          {**params, "deployment_id": deployment_id}).first()
    if row is None:
        return None
    return CadreRegistration(row.Platform, session), row.Deployment


@functools.cache
def _registration_lookup(by_id: bool, *, with_deployment: bool) -> Select[Any]:
    """Built once per shape: every login and launch runs one, and building it cost as much as running it."""
    which = Platform.id == bindparam("platform_id") if by_id else and_(
        Platform.issuer == bindparam("issuer"), Platform.client_id == bindparam("client_id"))
    if not with_deployment:
        return select(Platform).where(which).limit(1)
    return (
        select(Platform, Deployment)
        .outerjoin(Deployment, and_(Deployment.platform_id == Platform.id,
                                    Deployment.deployment_id == bindparam("deployment_id")))
        .where(which)
        .limit(1)
    )


def login_request(params: dict[str, str]) -> FlaskRequest:
    """A pylti1p3 request over the given parameters (query and form merged: Moodle posts, others GET).

    A value with a NUL byte is dropped (so it reads as missing): no platform sends one, and PostgreSQL
    refuses it in a query, which would turn a bad request into a 500 and an error log.
    """
    return FlaskRequest(request_data={key: value for key, value in params.items() if "\x00" not in value})


class CadreOIDCLogin(FlaskOIDCLogin):
    cookie_check_template_name = "cookies_allowed_js_check.html"

    def __init__(self, request: FlaskRequest, tool_conf: DatabaseToolConf, session: Session,
                 settings: Settings) -> None:
        self._db = session
        self._settings = settings
        self._storage = DatabaseDataStorage(session, settings.nonce_lifetime_seconds)
        session_service = FlaskSessionService(request)
        session_service.set_data_storage(self._storage)
        super().__init__(request, tool_conf, session_service=session_service,
                         cookie_service=CadreCookieService(request))
        self._storage_login: tuple[PlatformStorage, str, str] | None = None

    def get_additional_login_params(self) -> list[str]:
        return ["lti_storage_target"]

    def validate_oidc_login(self) -> CadreRegistration:
        iss = self._get_request_param("iss")
        login_url = self._settings.url("/lti/login")
        if not iss:
            raise LaunchRejected("login_missing_param", param="iss", login_url=login_url)
        if not self._get_request_param("login_hint"):
            raise LaunchRejected("login_missing_param", param="login_hint", login_url=login_url, issuer=iss)
        tool_conf: DatabaseToolConf = self._tool_config
        client_id = self._get_request_param("client_id")
        if not client_id:
            platforms = tool_conf.platforms_of_issuer(iss)
            if len(platforms) > 1:
                raise LaunchRejected("login_client_id_required", issuer=iss)
            client_id = platforms[0].client_id if platforms else "(not sent)"
        deployment_id = self._get_request_param("lti_deployment_id")
        found = find_registration(self._db, issuer_and_client=(iss, client_id), deployment_id=deployment_id)
        if found is None:
            raise LaunchRejected("unknown_registration", issuer=iss, client_id=client_id)
        registration, deployment = found
        if deployment_id and deployment is None:
            raise LaunchRejected("unknown_deployment", issuer=iss, client_id=client_id,
                                 deployment_id=deployment_id)
        return registration

    def _prepare_redirect_url(self, launch_url: str) -> str:
        registration = self.validate_oidc_login()
        self._registration = registration
        state = new_state(current_app.config["SECRET_KEY"], registration.platform_id)
        nonce = secrets.token_urlsafe(32)
        lifetime = self._settings.nonce_lifetime_seconds
        self._cookie_service.set_cookie(state, state, lifetime)
        storage = None if self._is_new_window_request() else PlatformStorage.of(
            self._get_request_param("lti_storage_target"), registration.get_auth_login_url())
        storage_secret = secrets.token_urlsafe(24) if storage else None
        LoginState(
            issuer=registration.get_issuer() or "",
            client_id=registration.get_client_id() or "",
            platform_id=registration.platform_id,
            nonce=nonce,
            login_hint=self._get_request_param("login_hint"),
            lti_message_hint=self._get_request_param("lti_message_hint") or None,
            target_link_uri=self._get_request_param("target_link_uri") or None,
            storage_target=storage.target if storage else None,
            storage_secret=storage_secret,
        ).save(self._storage, state, lifetime)
        if storage and storage_secret:
            self._storage_login = (storage, state, storage_secret)

        auth_params: dict[str, Any] = {
            "scope": "openid",
            "response_type": "id_token",
            "response_mode": "form_post",
            "prompt": "none",
            "client_id": registration.get_client_id(),
            "redirect_uri": launch_url,
            "state": state,
            "nonce": nonce,
            "login_hint": self._get_request_param("login_hint"),
        }
        if lti_message_hint := self._get_request_param("lti_message_hint"):
            auth_params["lti_message_hint"] = lti_message_hint
        auth_login_url = registration.get_auth_login_url() or ""
        return auth_login_url + ("&" if "?" in auth_login_url else "?") + urlencode(auth_params)

    def _prepare_redirect(self, launch_url: str) -> FlaskRedirect:
        url = self._prepare_redirect_url(launch_url)
        if self._storage_login is not None:
            storage, state, secret = self._storage_login
            return StorageLoginPage(url, self._cookie_service, storage, state, secret)
        return FlaskRedirect(url, self._cookie_service)


def new_tab_login_url(settings: Settings, login: LoginState) -> str:
    """Begins the same login again in a top-level tab, where the browser keeps Cadre's cookies."""
    params = {"iss": login.issuer, "client_id": login.client_id, "login_hint": login.login_hint,
              "lti1p3_new_window": "1"}
    if login.lti_message_hint:
        params["lti_message_hint"] = login.lti_message_hint
    if login.target_link_uri:
        params["target_link_uri"] = login.target_link_uri
    return settings.url("/lti/login") + "?" + urlencode(params)
