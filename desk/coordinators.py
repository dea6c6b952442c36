"""Coordinators at the desk: sign-in by a one-time link (`sign_in`), search and the case page
with its actions (`cases`), the funnel and time in stage as charts (`reports`)."""

from __future__ import annotations

from fastapi import APIRouter

from lotse.desk import cases, reports, sign_in

router = APIRouter()
router.include_router(sign_in.router)
router.include_router(cases.router)
router.include_router(reports.router)
