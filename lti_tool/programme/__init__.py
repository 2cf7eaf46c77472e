"""Programme activities around the training: the manager insight survey (which mistakes managers see,
how often, at what cost; ranked into gaps by the designer) and six-month follow-ups (managers asked again,
and a change report). Career conversations, peer learning, coaching logs and relationship maps join here.

``survey`` and ``follow_ups`` hold the rules, ``events`` the points learning records hook into, ``views``
the pages; tables in ``models``. Imports nothing at module level: ``lti_tool.models`` imports
``lti_tool.programme.models``, which loads this package first.
"""

from __future__ import annotations

from typing import Any


def init_app(app: Any) -> None:
    from lti_tool.programme import follow_ups, views  # noqa: F401 - registers the job and the composer

    views.init_app(app)
    from lti_tool.programme import career_views

    career_views.init_app(app)
    from lti_tool.programme import coaching_views

    coaching_views.init_app(app)
    from lti_tool.programme import peer_coaching_views

    peer_coaching_views.init_app(app)
    from lti_tool.programme import relationship_views

    relationship_views.init_app(app)
