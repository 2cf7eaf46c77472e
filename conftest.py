"""Root conftest: shared fixtures live in tests/fixtures and are loaded as plugins."""

pytest_plugins = [
    "tests.fixtures.database",
    "tests.fixtures.live_server",
    "tests.fixtures.platform",
    "tests.fixtures.browser",
    "tests.fixtures.logs",
    "tests.fixtures.visitors",
    "tests.fixtures.operations",
]
