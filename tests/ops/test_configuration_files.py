"""config/.env.example and the README document every setting Cadre reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from lti_tool.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SETTING_NAMES = sorted(f"CADRE_{name.upper()}" for name in Settings.model_fields)


@pytest.mark.parametrize("document", ["config/.env.example", "README.md"])
def test_every_setting_is_documented(document: str) -> None:
    text = (ROOT / document).read_text()
    assert [name for name in SETTING_NAMES if name not in text] == []


def test_env_example_parses_and_holds_no_secret(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text((ROOT / "config/.env.example").read_text())
    settings = Settings(_env_file=env_file)  # type: ignore[call-arg]
    assert settings.secret_key.get_secret_value() == ""
    assert settings.lrs_password.get_secret_value() == ""
    assert settings.public_url.startswith("https://")
