"""``cadre`` with one more outbox topic, for tests that run ``cadre worker`` as a real process:
``python -m tests.outbox.worker_process worker ...``. The topic posts to the URL in its payload, then takes
``seconds`` to finish, as a slow receiver would."""

from __future__ import annotations

import time

from lti_tool import outbound
from lti_tool.cli import main
from lti_tool.outbox import OutboxItem, handlers

SLOW_TOPIC = "test.slow"


@handlers.handler(SLOW_TOPIC)
def slow_delivery(item: OutboxItem) -> None:
    outbound.client().post(item.payload["url"], json={"key": item.dedupe_key}).expect_success()
    time.sleep(item.payload["seconds"])


if __name__ == "__main__":
    main(prog_name="cadre")
