"""Fixtures of the audit tests, borrowed from the suites that own them (conftest fixtures are package-scoped):
the rubric library's people (``designer``, ``other_designer``, ``admin``, ``manager``, ``learner``, ``db``)
and the ``cadre`` CLI runner."""

from tests.ops.conftest import cadre  # noqa: F401 - fixtures, found by name
from tests.rubric_library.conftest import (  # noqa: F401 - fixtures, found by name
    admin,
    db,
    designer,
    launch_visitor,
    learner,
    manager,
    other_designer,
)
