"""Coordinators at the desk: sign-in by a one-time link, search, the case page and its actions."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
