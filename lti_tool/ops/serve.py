"""``cadre serve``: Cadre under gunicorn, configured by config/gunicorn.conf.py and the environment."""

from __future__ import annotations

import signal
from pathlib import Path
from types import FrameType
from typing import Any

from flask import Flask
from gunicorn.app.base import Application
from gunicorn.workers.base import Worker

from lti_tool.settings import Settings

REPOSITORY_CONFIG = Path(__file__).resolve().parents[2] / "config" / "gunicorn.conf.py"
GUNICORN_DEFAULT_LOGGER = "gunicorn.glogging.Logger"
REDACTING_LOGGER = "lti_tool.observability.GunicornLogger"
GUNICORN_DEFAULT_HOOK_MODULE = "gunicorn.config"


def quit_without_deadlock(worker: Worker) -> None:
    """Gunicorn's ``post_worker_init`` hook: a threaded worker told to quit (SIGQUIT, or SIGINT, the
    master's quick shutdown) exits without shutting its thread pool down from inside the signal handler.

    The gthread worker's own handler calls ``ThreadPoolExecutor.shutdown``, which takes the pool's lock;
    when the signal lands while the main thread is inside ``submit`` (which holds that lock while it starts
    a thread for a new connection), the handler waits for a lock its own thread holds, forever
    (python/cpython#121649). The master then kills itself after ``graceful_timeout`` and the worker is
    left behind, holding the port. Here the handler does what every other worker's does (stop, call
    ``worker_int``, exit): the pool's threads are joined at interpreter exit as always."""
    if getattr(worker, "tpool", None) is None:
        return

    def handle_quit(number: int, frame: FrameType | None) -> None:
        Worker.handle_quit(worker, number, frame)

    signal.signal(signal.SIGQUIT, handle_quit)
    signal.signal(signal.SIGINT, handle_quit)


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
        # Likewise a threaded worker quits without the deadlock of gunicorn's own handler, unless the
        # file sets a hook of its own (which then should call quit_without_deadlock).
        if getattr(self.cfg.post_worker_init, "__module__", None) == GUNICORN_DEFAULT_HOOK_MODULE:
            self.cfg.set("post_worker_init", quit_without_deadlock)

    def load(self) -> Flask:
        from lti_tool import create_app

        return create_app(self._settings)
