"""Alembic environment: runs on the connection `states.schema` hands over (no alembic.ini)."""

from alembic import context
from sqlmodel import SQLModel

import lotse.states.records  # noqa: F401  (registers the tables on SQLModel.metadata)

target_metadata = SQLModel.metadata
connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
