"""What a platform needs to know about Cadre: its endpoints, scopes and placements.

One source for the printed Moodle settings (``cadre platform config``), the Canvas developer-key JSON
(``/lti/config/canvas.json``) and the LTI Dynamic Registration request (``/lti/register``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from lti_tool.settings import Settings

DESCRIPTION = (
    "Puts managers in the loop of their employees' training: manager feedback, assessments with rubrics, "
    "dashboards and follow-ups."
)

AGS_SCOPES = (
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
)
NRPS_SCOPES = ("https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",)
SCOPES = AGS_SCOPES + NRPS_SCOPES

# Claims Cadre asks for: names to show managers their people, e-mail for roster matching (never in xAPI
# actors unless CADRE_ACTOR_IDENTITY=mbox).
CLAIMS = ("iss", "sub", "name", "given_name", "family_name", "email")

CANVAS_DEEP_LINKING_PLACEMENTS = ("assignment_selection", "link_selection", "module_menu_modal")
# An admin entry point in the account menu: registrations, keys and LRS settings live there.
CANVAS_RESOURCE_LINK_PLACEMENTS = ("account_navigation",)

TOOL_CONFIGURATION_CLAIM = "https://purl.imsglobal.org/spec/lti-tool-configuration"


@dataclass(frozen=True)
class ToolUrls:
    """Cadre's absolute LTI endpoints on its public origin."""

    login: str
    launch: str
    jwks: str
    deep_linking: str
    canvas_configuration: str
    dynamic_registration: str
    domain: str

    @classmethod
    def from_settings(cls, settings: Settings) -> ToolUrls:
        launch = settings.url("/lti/launch")
        return cls(
            login=settings.url("/lti/login"),
            launch=launch,
            jwks=settings.url("/lti/jwks"),
            # Deep linking requests arrive at the launch URL and are routed by message type.
            deep_linking=launch,
            canvas_configuration=settings.url("/lti/config/canvas.json"),
            dynamic_registration=settings.url("/lti/register"),
            domain=urlsplit(settings.public_url).netloc,
        )


def moodle_manual_settings(settings: Settings) -> list[tuple[str, str]]:
    """The fields of Moodle's "Configure a tool manually" form, in the order Moodle shows them."""
    urls = ToolUrls.from_settings(settings)
    return [
        ("Tool name", settings.tool_name),
        ("Tool URL", urls.launch),
        ("Tool description", DESCRIPTION),
        ("LTI version", "LTI 1.3"),
        ("Public key type", "Keyset URL"),
        ("Public keyset", urls.jwks),
        ("Initiate login URL", urls.login),
        ("Redirection URI(s)", urls.launch),
        ("Custom parameters", "(none)"),
        ("Tool configuration usage", "Show in activity chooser and as a preconfigured tool"),
        ("Default launch container", "Embed, without blocks"),
        ("Supports Deep Linking (Content-Item Message)", "yes"),
        ("Content Selection URL", urls.deep_linking),
        ("IMS LTI Assignment and Grade Services", "Use this service for grade sync and column management"),
        (
            "IMS LTI Names and Role Provisioning",
            "Use this service to retrieve members' information as per privacy settings",
        ),
        ("Share launcher's name with tool", "Always"),
        ("Share launcher's email with tool", "Always"),
    ]


def canvas_developer_key(settings: Settings) -> dict[str, Any]:
    """The JSON a Canvas admin loads into an LTI developer key ("Enter URL")."""
    urls = ToolUrls.from_settings(settings)
    placements: list[dict[str, Any]] = [
        {
            "placement": placement,
            "message_type": "LtiDeepLinkingRequest",
            "target_link_uri": urls.deep_linking,
            "text": settings.tool_name,
        }
        for placement in CANVAS_DEEP_LINKING_PLACEMENTS
    ]
    placements += [
        {
            "placement": placement,
            "message_type": "LtiResourceLinkRequest",
            "target_link_uri": urls.launch,
            "text": f"{settings.tool_name} administration",
        }
        for placement in CANVAS_RESOURCE_LINK_PLACEMENTS
    ]
    return {
        "title": settings.tool_name,
        "description": DESCRIPTION,
        "oidc_initiation_url": urls.login,
        "target_link_uri": urls.launch,
        "public_jwk_url": urls.jwks,
        "scopes": list(SCOPES),
        "extensions": [
            {
                "platform": "canvas.instructure.com",
                "domain": urls.domain,
                "tool_id": settings.tool_name.lower(),
                # "public" sends names, e-mail and role_scope_mentor (observers -> managers).
                "privacy_level": "public",
                "settings": {"text": settings.tool_name, "placements": placements},
            }
        ],
        "custom_fields": {},
    }


def dynamic_registration_request(settings: Settings) -> dict[str, Any]:
    """The tool's registration, as LTI Dynamic Registration 1.0 §3.3 defines it."""
    urls = ToolUrls.from_settings(settings)
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": urls.login,
        "redirect_uris": [urls.launch],
        "client_name": settings.tool_name,
        "jwks_uri": urls.jwks,
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(SCOPES),
        TOOL_CONFIGURATION_CLAIM: {
            "domain": urls.domain,
            "description": DESCRIPTION,
            "target_link_uri": urls.launch,
            "claims": list(CLAIMS),
            "messages": [
                {
                    "type": "LtiResourceLinkRequest",
                    "target_link_uri": urls.launch,
                    "label": settings.tool_name,
                },
                {
                    "type": "LtiDeepLinkingRequest",
                    "target_link_uri": urls.deep_linking,
                    "label": f"Add a {settings.tool_name} activity",
                },
            ],
        },
    }
