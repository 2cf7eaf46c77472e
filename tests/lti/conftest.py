"""Cadre's own launch tests drive its views in-process with Flask's test client and tokens they sign.

The platform is the suite's one stand-in (tests/fixtures/platform.py), here as ``in_process_lms``: its
endpoints (the JWKS Cadre fetches) are served on 127.0.0.1, its issuer and course are the ones below.
"""

from __future__ import annotations

from tests.fixtures.platform import (
    IN_PROCESS_CLIENT_ID,
    IN_PROCESS_DEPLOYMENT_ID,
    IN_PROCESS_ISSUER,
    InProcessLms,
    SigningKey,
)

ISSUER = IN_PROCESS_ISSUER
CLIENT_ID = IN_PROCESS_CLIENT_ID
DEPLOYMENT_ID = IN_PROCESS_DEPLOYMENT_ID
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
MENTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Mentor"

__all__ = ["CLIENT_ID", "DEPLOYMENT_ID", "INSTRUCTOR", "ISSUER", "LEARNER", "MENTOR", "InProcessLms",
           "SigningKey"]
