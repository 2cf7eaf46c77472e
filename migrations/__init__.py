"""Alembic migrations for Cadre, shipped inside the wheel so ``cadre db upgrade`` works when installed."""
