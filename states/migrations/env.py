"""Alembic environment: runs on the connection `states.schema` hands over (no alembic.ini)."""

from alembic import context
from sqlmodel import SQLModel

from lotse.states import records

records.register_all()
target_metadata = SQLModel.metadata
connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
