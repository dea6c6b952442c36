"""Who is told what: routing by role and region, message rendering, the outbox and its delivery.

May read `states` (events, records); `states` never imports this package; nothing here imports
Prefect.
"""
