"""A small LTI platform for the dynamic-registration tests: serves an openid-configuration and a
registration endpoint over real HTTP, and can be told to misbehave in the ways real platforms do."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, jsonify, redirect, request

CONFIGURATION_PATH = "/mod/lti/openid-configuration.php"
REGISTRATION_PATH = "/mod/lti/openid-registration.php"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"


@dataclass
class LmsBehaviour:
    """What the platform does on the next requests; reset before each test."""

    registration_token: str = "registration-token-from-the-lms"
    configuration: str = "ok"  # ok | not_json | wrong_issuer | no_registration_endpoint | redirect
    registration: str = "ok"  # ok | no_client_id | no_deployment
    client_id: str = "client-from-the-lms"
    deployment_id: str = "7"
    received_registrations: list[dict[str, Any]] = field(default_factory=list)
    received_authorizations: list[str] = field(default_factory=list)


def create_lms(base_url: str, behaviour: LmsBehaviour) -> Flask:
    lms = Flask("lms_for_registration")

    @lms.get(CONFIGURATION_PATH)
    def openid_configuration() -> Response:
        if behaviour.configuration == "not_json":
            return Response("<html>Moodle is in maintenance mode</html>", mimetype="text/html")
        if behaviour.configuration == "redirect":
            return redirect("http://elsewhere.invalid/openid-configuration")  # type: ignore[return-value]
        issuer = "https://impostor.example.com" if behaviour.configuration == "wrong_issuer" else base_url
        document: dict[str, Any] = {
            "issuer": issuer,
            "authorization_endpoint": f"{base_url}/mod/lti/auth.php",
            "token_endpoint": f"{base_url}/mod/lti/token.php",
            "jwks_uri": f"{base_url}/mod/lti/certs.php",
            "registration_endpoint": f"{base_url}{REGISTRATION_PATH}",
            "scopes_supported": ["openid", "https://purl.imsglobal.org/spec/lti-ags/scope/score"],
            "response_types_supported": ["id_token"],
            # Moodle 3.10-4.0 publish this claim name with a trailing space.
            "https://purl.imsglobal.org/spec/lti-platform-configuration ": {
                "product_family_code": "moodle",
                "version": "4.1",
                "messages_supported": ["LtiResourceLinkRequest", "LtiDeepLinkingRequest"],
            },
        }
        if behaviour.configuration == "no_registration_endpoint":
            del document["registration_endpoint"]
        return jsonify(document)

    @lms.post(REGISTRATION_PATH)
    def register_tool() -> tuple[Response, int]:
        authorization = request.headers.get("Authorization", "")
        behaviour.received_authorizations.append(authorization)
        if authorization != f"Bearer {behaviour.registration_token}":
            return jsonify(error="invalid_token", error_description="registration token expired"), 401
        registration = request.get_json(force=True)
        behaviour.received_registrations.append(registration)
        tool_configuration = dict(registration[TOOL_CONFIGURATION])
        if behaviour.registration != "no_deployment":
            tool_configuration["deployment_id"] = behaviour.deployment_id
        answer = {**registration, TOOL_CONFIGURATION: tool_configuration}
        if behaviour.registration != "no_client_id":
            answer["client_id"] = behaviour.client_id
        return jsonify(answer), 200

    return lms
