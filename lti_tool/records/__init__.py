"""Learning records: Cadre's own xAPI statement store, its forwarding to learning record stores (LRS), and
the ``cadre lrs`` commands. Features record statements with :func:`lti_tool.records.store.record`."""
