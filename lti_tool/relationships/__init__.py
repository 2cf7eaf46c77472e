"""Manager <-> learner relationships in a course (from Canvas mentor scopes today; rosters, designers and
nominations later)."""
