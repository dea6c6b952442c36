"""Alembic migrations of Lotse's schema; `lotse init` runs them up to the newest."""
