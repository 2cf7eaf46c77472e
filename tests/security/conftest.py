"""Fixtures the security tests share with other suites: the rubric library's people (``designer``,
``admin``, ``learner`` …) and the small LMS that answers dynamic registration."""

from tests.ops.conftest import lms, running_lms  # noqa: F401 - fixtures, found by name
from tests.rubric_library.conftest import (  # noqa: F401 - fixtures, found by name
    admin,
    db,
    designer,
    launch_visitor,
    learner,
    manager,
    other_designer,
)
