"""Where every case stands.

The pure part (process definitions, facts, the case, the machine, events, errors) uses only the
standard library, pydantic and transitions; `records`, `store` and `migrations` keep it in a
database. Nothing here imports Prefect or `notifications`.
"""
