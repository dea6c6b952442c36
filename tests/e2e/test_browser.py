"""The Prefect UI in headless Chromium (Debian's `chromium`, never a downloaded browser): the
deployments page lists the Lotse deployments and the `pipeline` artifact renders. Screenshots go
to the test's folder, and to docs/ with LOTSE_UPDATE_SCREENSHOTS=1."""

from __future__ import annotations

from pathlib import Path

import pytest

from lotse.flows.deployments import PLANNED
from tests.e2e.conftest import Up, keep, newest_artifact
from tests.e2e.test_lotse_up import present

pytestmark = [pytest.mark.prefect, pytest.mark.browser]


def test_the_deployments_page_lists_the_lotse_deployments(served: Up, page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{served.ui}/deployments", wait_until="domcontentloaded")

    for plan in PLANNED:
        if present(plan.name):
            page.get_by_text(plan.name, exact=True).first.wait_for(timeout=30_000)
    keep(page, tmp_path, "prefect-deployments.png")


def test_the_pipeline_artifact_renders_as_a_table(served: Up, page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    newest = newest_artifact(served.api, "pipeline")["id"]

    page.goto(f"{served.ui}/artifacts/artifact/{newest}", wait_until="domcontentloaded")

    table = page.locator("table")
    for text in ("where", "klinik-seeblick", "language_course", "SE-Sued"):
        table.get_by_text(text, exact=True).first.wait_for(timeout=30_000)
    keep(page, tmp_path, "prefect-pipeline.png")
