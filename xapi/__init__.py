"""xAPI vocabulary, statement builders and the LRS client (pure: no Flask, no SQLAlchemy)."""
