"""The rejection catalogue and the error page an LMS administrator reads."""

from __future__ import annotations

from flask import Flask

from lti_tool.lti.errors import REJECTIONS, LaunchRejected, rejection_action, rejection_message
from lti_tool.web import error_page


def test_every_rejection_has_a_status_from_the_policy() -> None:
    assert {rejection.status for rejection in REJECTIONS.values()} <= {400, 401, 403, 502}
    assert REJECTIONS["unknown_registration"].status == 403
    assert REJECTIONS["unknown_deployment"].status == 403
    assert REJECTIONS["nonce_used"].status == 401
    assert REJECTIONS["bad_signature"].status == 401
    assert REJECTIONS["missing_claim"].status == 400
    assert REJECTIONS["wrong_version"].status == 400


def test_messages_name_what_to_run() -> None:
    assert rejection_message("unknown_registration", issuer="https://x", client_id="Y") == (
        "Issuer https://x with client_id Y is not registered in Cadre."
    )
    assert "cadre platform add --name NAME --issuer https://x --client-id Y" in (
        rejection_action("unknown_registration", issuer="https://x", client_id="Y") or ""
    )
    assert rejection_message(
        "unknown_deployment", deployment_id="7", issuer="https://moodle.example", client_id="abc"
    ) == ("Deployment 7 of https://moodle.example (client_id abc) is not registered in Cadre.")
    action = rejection_action(
        "unknown_deployment", deployment_id="7 ; rm", issuer="https://m", client_id="abc"
    )
    assert action is not None and action.endswith("--client-id abc '7 ; rm'")  # quoted for a shell
    assert rejection_message("nonce_used") == "This launch was already used."
    assert rejection_message("missing_claim") == "The id_token has no ? claim, which an LTI 1.3 ? must carry."


def test_launch_rejected_carries_status_and_log_fields() -> None:
    error = LaunchRejected("unknown_kid", issuer="https://x", client_id="c", kid="k9", jwks_url="https://x/j")
    assert (error.status, error.issuer, error.client_id) == (401, "https://x", "c")
    assert "k9" in error.message and "https://x/j" in error.message


def test_error_page_is_escaped_and_uncached(app: Flask) -> None:
    with app.test_request_context("/lti/launch"):
        response = error_page(
            403,
            "Platform not registered",
            "Issuer <script>alert(1)</script> unknown",
            "Run: cadre platform add",
        )
    page = response.get_data(as_text=True)
    assert response.status_code == 403 and response.headers["Cache-Control"] == "no-store"
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert 'data-testid="error-message"' in page and "Run: cadre platform add" in page
    assert "/static/cadre.css" in page and "https://" not in page.split("<body>")[0]  # no external assets
