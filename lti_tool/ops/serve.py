"""``cadre serve``: Cadre under gunicorn, configured by config/gunicorn.conf.py and the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from gunicorn.app.base import Application

from lti_tool.settings import Settings

REPOSITORY_CONFIG = Path(__file__).resolve().parents[2] / "config" / "gunicorn.conf.py"
GUNICORN_DEFAULT_LOGGER = "gunicorn.glogging.Logger"
REDACTING_LOGGER = "lti_tool.observability.GunicornLogger"


def default_config_path() -> Path | None:
    """config/gunicorn.conf.py of the current directory, else the one of the source checkout."""
    for candidate in (Path.cwd() / "config" / "gunicorn.conf.py", REPOSITORY_CONFIG):
        if candidate.is_file():
            return candidate
    return None


class CadreServer(Application):  # type: ignore[misc]  # gunicorn ships no type hints
    """Gunicorn running ``create_app(settings)`` in each worker, configured from a file, not from argv."""

    def __init__(self, settings: Settings, options: dict[str, Any], config_path: Path | None) -> None:
        self._settings = settings
        self._options = options
        self._config_path = config_path
        super().__init__()

    def load_config(self) -> None:
        if self._config_path is not None:
            self.load_config_from_file(str(self._config_path))
        for key, value in self._options.items():
            self.cfg.set(key, value)
        # Request lines hold query strings with credentials (dynamic registration's registration_token and
        # invite): whatever the configuration file, gunicorn's log goes through Cadre's redaction, unless
        # the file names a logger class of its own.
        if self.cfg.settings["logger_class"].get() in (GUNICORN_DEFAULT_LOGGER, "simple"):
            self.cfg.set("logger_class", REDACTING_LOGGER)

    def load(self) -> Flask:
        from lti_tool import create_app

        return create_app(self._settings)
