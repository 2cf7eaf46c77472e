"""Fixtures of the learning-records tests (defined in ``delivery_support``, where their helpers live)."""

from tests.records.delivery_support import (  # noqa: F401
    fresh_ralph,
    ralph,
    records_app,
    records_app_of_module,
    stand_in,
    stand_in_server,
)
