"""The README shows what the code does: its diagram is the one `lotse process show` draws."""

from __future__ import annotations

import re
from pathlib import Path

from lotse.config.settings import Settings
from lotse.flows.cli.process import to_mermaid
from lotse.states.process import Catalog

README = Path(__file__).parents[2] / "README.md"


def test_readme_diagram_is_the_generated_mermaid_of_pflege() -> None:
    blocks = re.findall(r"```mermaid\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    pflege = Catalog.load(Settings(_env_file=None).process_dirs).get("pflege")  # type: ignore[call-arg]
    assert blocks, "the README has no mermaid diagram"
    assert blocks[0].strip() == to_mermaid(pflege).strip()


def test_readme_names_the_two_commands_for_a_fresh_machine() -> None:
    text = README.read_text(encoding="utf-8")
    assert "make demo" in text and "make test" in text
