"""The feedback tests' course (a designer, Omar and Rita managing Ana and Ben, a second course), for the
tracking tests that go through the feedback services."""

from tests.feedback.conftest import course  # noqa: F401  (the fixture)
