"""Settings, read once from the environment (prefix ``CADRE_``) or passed in by tests."""

from __future__ import annotations

import math
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

FORM_MARGIN_BYTES = 1024 * 1024
"""Room in a request for a work product's text and the form's other fields, beside its files."""


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
        env_prefix="CADRE_", env_file=".env", env_file_encoding="utf-8", extra="ignore",
        hide_input_in_errors=True,  # a refused value can hold a password (a URL's): messages never show it
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
    """How xAPI actors are identified: ``account`` (platform issuer + LTI sub), ``mbox`` (e-mail) or
    ``mbox_sha1sum`` (its SHA-1); the e-mail modes only for people whose platform sent an address."""

    lrs_endpoint: str = ""
    lrs_username: str = ""
    lrs_password: SecretStr = SecretStr("")
    lrs_batch_size: int = 100
    """Statements per POST to the LRS of ``CADRE_LRS_ENDPOINT`` (others: ``cadre lrs add --batch-size``)."""
    lrs_retry_base_seconds: float = 30.0
    """The first wait before statements an LRS could not take are sent again; it doubles (with jitter) up to
    ``lrs_retry_cap_seconds``. Statements are never given up for an LRS that is down: they wait."""
    lrs_retry_cap_seconds: float = 3600.0
    lrs_lease_seconds: float = 120.0
    """How long a delivery worker's claim on a batch lasts: a dead worker's batch is sent again after it."""
    lrs_backlog_alert_minutes: int = 60
    """Admins are e-mailed when an LRS's oldest undelivered statement is older than this (once a backlog)."""

    frame_ancestors: str = ""
    """Extra origins allowed to show Cadre in a frame, space-separated: a Canvas vanity domain
    (``https://learn.example.com``) or an LMS whose pages live on another origin than its issuer."""

    max_upload_mb: int = 32
    """The largest request Cadre reads, in MiB (Flask's ``MAX_CONTENT_LENGTH``): a bigger one is refused
    before its form is read. Must hold a work product's files at their limits (checked at start)."""
    upload_dir: str = ""
    """Where learners' work-product files are kept, outside the web root; empty: ``instance/uploads``."""
    upload_max_bytes: int = 10 * 1024 * 1024
    """The largest file a learner may attach to a work product, in bytes."""
    upload_max_files: int = 3
    """How many files one work-product version may have."""
    upload_types: str = "pdf docx xlsx pptx odt ods odp txt md csv png jpg jpeg gif webp"
    """The file extensions learners may upload, space- or comma-separated, among those Cadre knows how to
    check (``lti_tool.deliverables.file_types``); the content must match the extension."""
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
        if value not in {"account", "mbox", "mbox_sha1sum"}:
            raise ValueError("CADRE_ACTOR_IDENTITY must be 'account', 'mbox' or 'mbox_sha1sum'")
        return value

    @field_validator("lrs_endpoint")
    @classmethod
    def _usable_lrs_endpoint(cls, value: str) -> str:
        """Refused at start-up rather than at every recording (each launch and submission records)."""
        from lti_tool.records.lrs import LrsConfigurationError, normalized_endpoint

        if not value.strip():
            return ""
        try:
            normalized_endpoint(value)
        except LrsConfigurationError as refused:
            raise ValueError(f"CADRE_LRS_ENDPOINT: {refused}") from None
        return value

    @field_validator("upload_types")
    @classmethod
    def _known_upload_types(cls, value: str) -> str:
        from lti_tool.deliverables.file_types import FILE_TYPES

        extensions = [part.lower().lstrip(".") for part in value.replace(",", " ").split()]
        unknown = sorted(set(extensions) - set(FILE_TYPES))
        if unknown:
            raise ValueError(f"CADRE_UPLOAD_TYPES: Cadre cannot check {', '.join(unknown)} files; it knows "
                             f"{', '.join(sorted(FILE_TYPES))}")
        return " ".join(dict.fromkeys(extensions))

    @model_validator(mode="after")
    def _uploads_fit_in_a_request(self) -> Settings:
        if self.upload_max_bytes < 1 or self.upload_max_files < 1:
            raise ValueError("CADRE_UPLOAD_MAX_BYTES and CADRE_UPLOAD_MAX_FILES must be at least 1")
        needed = self.upload_max_bytes * self.upload_max_files + FORM_MARGIN_BYTES
        if needed > self.max_upload_mb * 1024 * 1024:
            raise ValueError(
                f"CADRE_MAX_UPLOAD_MB ({self.max_upload_mb}) must hold CADRE_UPLOAD_MAX_FILES "
                f"({self.upload_max_files}) files of CADRE_UPLOAD_MAX_BYTES ({self.upload_max_bytes}) and "
                f"the form: at least {math.ceil(needed / 1024 / 1024)}"
            )
        return self

    @property
    def upload_extensions(self) -> frozenset[str]:
        return frozenset(self.upload_types.split())

    def upload_path(self) -> Path:
        return Path(self.upload_dir) if self.upload_dir else instance_dir() / "uploads"

    def url(self, path: str) -> str:
        """An absolute URL on Cadre's public origin."""
        return self.public_url + path


def get_settings() -> Settings:
    """The settings of the running app (``create_app(settings)``); features read them through this."""
    from flask import current_app

    return current_app.config["CADRE"]
