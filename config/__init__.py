"""Settings, process definitions and reference data that an alliance can read and change.

Everything here is data or plain configuration; nothing reads the environment at import time.
"""
