"""The pages an answer link opens: GET shows what the link reports, POST reports it."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
