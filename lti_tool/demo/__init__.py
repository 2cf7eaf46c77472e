"""The built-in demo platform: a small LMS stand-in that launches Cadre over real LTI 1.3."""
