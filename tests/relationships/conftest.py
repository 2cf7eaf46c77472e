"""The feedback tests' course (a designer, line manager Omar of Ana and Ben, mentor Rita of Ana, a
learner linked to nobody, a second course) for the relationship rules."""

from tests.feedback.conftest import course  # noqa: F401 - re-exported as this directory's fixture
