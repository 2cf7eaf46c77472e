"""Settings, read once from the environment (prefix ``CADRE_``) or passed in by tests."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def instance_dir() -> Path:
    """Where Cadre keeps its local files (SQLite database, generated secret): ``instance/`` here."""
    return Path.cwd() / "instance"


def default_database_url() -> str:
    return f"sqlite:///{instance_dir() / 'cadre.db'}"


class Settings(BaseSettings):
    """Everything Cadre reads from its environment.

    Nothing else in the code reads ``os.environ``: pass a ``Settings`` to ``create_app`` instead.
    """

    model_config = SettingsConfigDict(
        env_prefix="CADRE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = Field(default_factory=default_database_url)
    secret_key: SecretStr = SecretStr("")
    public_url: str = "http://127.0.0.1:5000"
    """Where platforms and browsers reach Cadre; used in redirect URIs, JWKS URL and registration JSON."""

    tool_name: str = "Cadre"
    launch_token_minutes: int = 60
    """How long a Cadre session lasts after a launch: the launch row, its token and the session cookie."""
    nonce_lifetime_seconds: int = 600
    clock_skew_seconds: int = 60
    key_grace_days: int = 7
    """How long a rotated-out tool key stays in the JWKS so platforms can still verify old signatures."""

    jwks_cache_seconds: int = 3600
    jwks_refetch_min_seconds: int = 30
    http_timeout_seconds: float = 10.0
    """Outgoing requests: the longest silence while reading an answer (see ``lti_tool.outbound``)."""
    http_connect_timeout_seconds: float = 5.0
    http_total_timeout_seconds: float = 30.0
    """The longest one attempt of an outgoing request may take, however the server trickles its answer."""
    http_max_response_mb: int = 8
    http_max_attempts: int = 3
    """Attempts for an idempotent outgoing request (GET, PUT, DELETE); a POST is sent once."""
    http_retry_after_max_seconds: float = 30.0
    http_refuse_private_networks: bool = False
    """Refuse outgoing requests to loopback and private addresses (link-local ones are always refused)."""

    actor_identity: str = "account"
    """How xAPI actors are identified: ``account`` (platform issuer + LTI sub) or ``mbox`` (e-mail)."""

    lrs_endpoint: str = ""
    lrs_username: str = ""
    lrs_password: SecretStr = SecretStr("")

    frame_ancestors: str = ""
    """Extra origins allowed to show Cadre in a frame, space-separated: a Canvas vanity domain
    (``https://learn.example.com``) or an LMS whose pages live on another origin than its issuer."""

    max_upload_mb: int = 20
    log_level: str = "INFO"
    log_json: bool = True

    dynamic_registration: str = "invite"
    """LTI Dynamic Registration: ``invite`` (only with a link from ``cadre platform invite``), ``open``
    (anyone who can reach Cadre may register a platform) or ``off``."""
    registration_invite_hours: int = 72

    bind: str = "127.0.0.1:8000"
    """host:port ``cadre serve`` listens on (behind a reverse proxy that terminates HTTPS)."""
    workers: int = 2
    forwarded_allow_ips: str = "127.0.0.1"
    """Proxies whose X-Forwarded-* headers gunicorn trusts, comma-separated (``*`` only on a private net)."""

    demo_platform_url: str = "http://127.0.0.1:5001"
    """Where ``cadre demo`` serves its stand-in LMS."""

    smtp_host: str = ""
    """The SMTP server Cadre sends e-mail through (invitations, reminders); empty: no e-mail is sent."""
    smtp_port: int = 0
    """0: the usual port for the TLS mode (465 with ``smtp_ssl``, 587 with ``smtp_starttls``, else 25)."""
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = True
    """Upgrade the connection with STARTTLS and refuse a server that does not offer it."""
    smtp_ssl: bool = False
    """Connect with TLS from the start (SMTPS, port 465) instead of STARTTLS."""
    smtp_ca_file: str = ""
    """A CA bundle to verify the SMTP server's certificate with (a private relay); empty: the system's."""
    smtp_from: str = ""
    """The From address of Cadre's e-mail, e.g. ``Cadre <cadre@example.org>``."""
    smtp_timeout_seconds: float = 15.0
    invitation_link_hours: int = 72
    """How long an e-mailed sign-in link for an invited manager stays valid (once used it is spent)."""

    @field_validator("public_url", "demo_platform_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("dynamic_registration")
    @classmethod
    def _known_registration_mode(cls, value: str) -> str:
        if value not in {"invite", "open", "off"}:
            raise ValueError("CADRE_DYNAMIC_REGISTRATION must be 'invite', 'open' or 'off'")
        return value

    @field_validator("actor_identity")
    @classmethod
    def _known_identity(cls, value: str) -> str:
        if value not in {"account", "mbox"}:
            raise ValueError("CADRE_ACTOR_IDENTITY must be 'account' or 'mbox'")
        return value

    def url(self, path: str) -> str:
        """An absolute URL on Cadre's public origin."""
        return self.public_url + path


def get_settings() -> Settings:
    """The settings of the running app (``create_app(settings)``); features read them through this."""
    from flask import current_app

    return current_app.config["CADRE"]
