"""`cadre demo` runs only where nobody else can reach its LMS, which lets anyone act as any user."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from lti_tool import create_app
from lti_tool.cli import main
from lti_tool.demo.cli import exposure_problems
from lti_tool.settings import Settings


def settings(**values: str) -> Settings:
    return Settings(secret_key="demo-test", _env_file=None, **values)  # type: ignore[call-arg]  # noqa: S106


def test_the_default_demo_is_private() -> None:
    assert exposure_problems(settings(database_url="sqlite:///demo.db")) == []


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"public_url": "http://0.0.0.0:5000"}, "CADRE_PUBLIC_URL=http://0.0.0.0:5000 is not a loopback"),
        ({"demo_platform_url": "https://lms.example.com"},
         "CADRE_DEMO_PLATFORM_URL=https://lms.example.com is not a loopback"),
        ({"database_url": "postgresql+psycopg://postgres@127.0.0.1:5432/cadre"},
         "CADRE_DATABASE_URL is not a SQLite file"),
    ],
)
def test_an_exposed_demo_is_named(values: dict[str, str], problem: str) -> None:
    [found] = exposure_problems(settings(**({"database_url": "sqlite:///demo.db"} | values)))
    assert found.startswith(problem)


def test_the_command_refuses_an_exposed_demo_and_changes_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    database = tmp_path / "demo.db"
    app = create_app(settings(database_url=f"sqlite:///{database}", public_url="http://192.0.2.10:5000"))
    result = CliRunner().invoke(main, ["demo"], obj=_script_info(app))
    assert result.exit_code == 1
    assert "runs only on this machine" in result.output
    assert "CADRE_PUBLIC_URL=http://192.0.2.10:5000 is not a loopback address" in result.output
    assert not database.exists() or database.stat().st_size == 0  # nothing migrated, nothing registered


def _script_info(app):  # type: ignore[no-untyped-def]
    from flask.cli import ScriptInfo

    return ScriptInfo(create_app=lambda: app)
