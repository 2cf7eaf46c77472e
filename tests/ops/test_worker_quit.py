"""A threaded gunicorn worker told to quit (Ctrl+C, SIGQUIT) exits, even when the signal lands while the
worker hands a new connection to its thread pool.

Gunicorn's gthread handler shuts the pool down from inside the signal handler; ``ThreadPoolExecutor.submit``
holds the pool's lock while it starts a thread, so a signal arriving then makes the handler wait for a lock
its own thread holds (python/cpython#121649). Seen in a clean-clone CI run: the master was killed after its
timeout and the worker outlived it, holding the port and the test's pipes, for 13 minutes.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from gunicorn.workers.gthread import ThreadWorker

from lti_tool.ops import serve
from tests.fixtures.live_server import settings_for_tests

QUIT_SIGNALS = (signal.SIGQUIT, signal.SIGINT)


@pytest.fixture
def restored_signals() -> Iterator[None]:
    """The test process's own handlers, put back after the hook replaced them."""
    previous = {number: signal.getsignal(number) for number in QUIT_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def threaded_worker() -> tuple[Any, list[Any]]:
    """What a quit handler touches of a gthread worker: its pool, ``alive`` and the ``worker_int`` hook."""
    interrupted: list[Any] = []
    worker = SimpleNamespace(tpool=ThreadPoolExecutor(max_workers=1), alive=True,
                             cfg=SimpleNamespace(worker_int=interrupted.append))
    return worker, interrupted


def quit_while_submitting(
    worker: Any, handler: Callable[[int, Any], None]
) -> tuple[threading.Thread, list[Any]]:
    """``handler`` run as if the signal landed inside ``submit``: with the pool's lock held by the same
    thread. Returns the thread (still alive if the handler is stuck) and the exit codes it raised."""
    exits: list[Any] = []

    def run() -> None:
        with worker.tpool._shutdown_lock:
            try:
                handler(signal.SIGQUIT, None)
            except SystemExit as exit:
                exits.append(exit.code)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=5)
    return thread, exits


def test_the_hook_quits_a_threaded_worker_whose_pool_is_starting_a_thread(restored_signals: None) -> None:
    worker, interrupted = threaded_worker()
    serve.quit_without_deadlock(worker)
    handler = signal.getsignal(signal.SIGQUIT)
    assert callable(handler) and signal.getsignal(signal.SIGINT) is handler

    thread, exits = quit_while_submitting(worker, handler)

    assert not thread.is_alive() and exits == [0]
    assert worker.alive is False and interrupted == [worker]  # as any worker quits: worker_int called


def test_gunicorns_own_handler_waits_forever_there() -> None:
    """Why the hook exists: if this ever fails, gunicorn has fixed it and the hook can go."""
    worker, _ = threaded_worker()
    thread, exits = quit_while_submitting(worker, lambda number, frame: ThreadWorker.handle_quit(
        worker, number, frame))
    assert thread.is_alive() and exits == []  # a daemon thread, stuck on a lock no one else holds


def test_a_worker_without_a_thread_pool_keeps_its_handlers(restored_signals: None) -> None:
    before = signal.getsignal(signal.SIGQUIT)
    serve.quit_without_deadlock(SimpleNamespace(alive=True))  # a sync worker: its handler has no pool
    assert signal.getsignal(signal.SIGQUIT) is before


def server_config(tmp_path: Path, config: Path | None) -> Any:
    settings = settings_for_tests(f"sqlite:///{tmp_path / 'cadre.db'}", "https://cadre.example.com")
    return serve.CadreServer(settings, {}, config).cfg


def test_cadre_serve_installs_the_hook_from_the_repository_file_or_without_one(tmp_path: Path) -> None:
    assert server_config(tmp_path, serve.REPOSITORY_CONFIG).post_worker_init is serve.quit_without_deadlock
    bare = tmp_path / "bare.conf.py"
    bare.write_text("workers = 1\nworker_class = 'gthread'\n")
    assert server_config(tmp_path, bare).post_worker_init is serve.quit_without_deadlock
    assert server_config(tmp_path, None).post_worker_init is serve.quit_without_deadlock


def test_a_configuration_files_own_hook_is_kept(tmp_path: Path) -> None:
    own = tmp_path / "own.conf.py"
    own.write_text("def post_worker_init(worker):\n    worker.log.info('mine')\n")
    hook = server_config(tmp_path, own).post_worker_init
    assert hook is not serve.quit_without_deadlock and hook.__name__ == "post_worker_init"
    assert hook.__module__ != serve.GUNICORN_DEFAULT_HOOK_MODULE
