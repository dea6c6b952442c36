"""Prefect flows, their deployments and schedules, and the `lotse` command line.

This package's `__init__` imports nothing: the command line's read-only commands must not pay for
importing Prefect.
"""
