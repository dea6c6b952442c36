"""The desk: Lotse's own small web application, for answer links and signed-in coordinators.

An entry point beside `flows/`: it calls `tasks/`, and nothing below imports it. Names of people
are shown here, never in Prefect.
"""
