"""Units of work: plain functions that each run one change or one job in one transaction
(`casework`, `directory`, ...), and the Prefect tasks over them (`prefect_tasks`).

Only `prefect_tasks` imports Prefect, so the command line stays fast where it does not need it.
"""
