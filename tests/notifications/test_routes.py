"""Routes from an Apprise configuration: the most specific tag wins, regions keep to themselves,
secrets come from the environment, and every problem of the file is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from lotse.config.settings import Settings
from lotse.notifications import routes
from lotse.notifications.routes import Address

REGIONS = {"SE-Nord", "SE-Sued"}


def load(tmp_path: Path, text: str, name: str = "routes.yaml") -> routes.Routes:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return routes.load(Settings(notify_config=path, _env_file=None))  # type: ignore[call-arg]


YAML = """
version: 1
urls:
  - json://127.0.0.1:1/actor:
      tag: wohnbau-nord
  - json://127.0.0.1:1/housing-nord:
      tag: housing, SE-Nord
  - json://127.0.0.1:1/housing-sued:
      tag: housing, SE-Sued
  - json://127.0.0.1:1/housing-elsewhere:
      tag: housing
  - mailto://127.0.0.1:1?mode=insecure&from=a@example.org&to=b@example.org:
      tag: employer
"""


def paths(found: list[routes.Target]) -> list[str]:
    return [t.label.rsplit("/", 1)[-1] for t in found]


def test_the_actor_tag_wins_over_its_role_in_its_region(tmp_path: Path) -> None:
    table = load(tmp_path, YAML)
    assert paths(table.find(Address(("housing",), "SE-Nord", "wohnbau-nord"), REGIONS)) == ["actor"]


def test_a_role_is_routed_by_the_case_region_and_never_to_another_region(tmp_path: Path) -> None:
    table = load(tmp_path, YAML)
    assert paths(table.find(Address(("housing",), "SE-Sued", "wohnen-sued"), REGIONS)) == ["housing-sued"]
    assert paths(table.find(Address(("housing",), "SE-Nord"), REGIONS)) == ["housing-nord"]
    # a region without its own route takes the role's route, not another region's
    assert paths(table.find(Address(("housing",), "SE-Ost"), REGIONS | {"SE-Ost"})) == ["housing-elsewhere"]


def test_e_mail_and_chat_routes_are_told_apart_and_a_role_without_a_tag_has_none(tmp_path: Path) -> None:
    table = load(tmp_path, YAML)
    (mail,) = table.find(Address(("employer",), "SE-Nord", "klinik-nord"), REGIONS)
    assert mail.channel == "email" and mail.service.request_rate_per_sec == 0
    assert table.find(Address(("housing",), "SE-Nord"), REGIONS)[0].channel == "chat"
    assert table.find(Address(("counsellor",), "SE-Nord", "beratung"), REGIONS) == []
    assert "add a URL tagged 'beratung' or 'counsellor'" in table.explain_missing(
        Address(("counsellor",), "SE-Nord", "beratung"))


def test_an_address_survives_the_outbox_row(tmp_path: Path) -> None:
    for address in (Address(("housing", "counsellor"), "SE-Nord", "wohnbau-nord"), Address(("agency",))):
        assert Address.parse(str(address)) == address
    assert Address(("agency",), "SE-Nord").recipient == "agency@SE-Nord"


def test_secrets_come_from_the_environment_and_a_missing_one_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOTSE_TEST_SMTP_PASSWORD", "s3cret")
    monkeypatch.delenv("LOTSE_TEST_TOKEN", raising=False)
    text = """
version: 1
urls:
  # ${NOT_EXPANDED_IN_COMMENTS}
  - mailto://lotse:${LOTSE_TEST_SMTP_PASSWORD}@127.0.0.1:1?mode=insecure&from=a@example.org&to=b@example.org:
      tag: coordinator
  - json://127.0.0.1:1/${LOTSE_TEST_TOKEN}:
      tag: housing
"""
    table = load(tmp_path, text)
    (mail,) = table.find(Address(("coordinator",)), set())
    assert mail.service.password == "s3cret" and "s3cret" not in mail.label
    assert table.warnings == ["environment variable LOTSE_TEST_TOKEN is not set"]


def test_every_problem_of_the_file_is_a_warning_never_an_exception(tmp_path: Path) -> None:
    unknown = load(tmp_path, "version: 1\nurls:\n  - teams://a/b:\n      tag: housing\n")
    assert unknown.targets == [] and any("invalid Apprise schema (teams)" in w for w in unknown.warnings)
    broken = load(tmp_path, "version: 1\nurls: [\n", name="broken.yaml")
    assert broken.targets == [] and broken.warnings
    missing = routes.load(Settings(notify_config=tmp_path / "nope.yaml", _env_file=None))  # type: ignore[call-arg]
    assert missing.targets == [] and "cannot be read" in missing.warnings[0]
    unset = routes.load(Settings(_env_file=None))  # type: ignore[call-arg]
    assert not unset.configured and "LOTSE_NOTIFY_CONFIG is not set" in unset.warnings[0]


def test_apprise_text_format_works_too(tmp_path: Path) -> None:
    table = load(tmp_path, "housing,SE-Nord=json://127.0.0.1:1/text-format\n", name="routes.txt")
    assert paths(table.find(Address(("housing",), "SE-Nord"), REGIONS)) == ["text-format"]


def test_the_shipped_example_routes_every_kind_of_channel_without_a_problem(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("LOTSE_SMTP_PASSWORD", "LOTSE_TEAMS_ABH_WORKFLOW", "LOTSE_TEAMS_ABH_SIGNATURE",
                 "LOTSE_MATRIX_PASSWORD", "LOTSE_MATTERMOST_HOOK"):
        monkeypatch.setenv(name, f"secret-{name.lower()}")
    example = Path(__file__).parents[2] / "config" / "notify.example.yaml"
    table = routes.load(Settings(notify_config=example, _env_file=None))  # type: ignore[call-arg]
    assert table.warnings == []
    schemes = {t.label.split("://")[0] for t in table.targets}
    assert schemes == {"mailtos", "workflow", "matrixs", "mmosts"}
    assert not any("secret-" in t.label for t in table.targets)

    def scheme(address: Address) -> list[str]:
        return [t.label.split("://")[0] for t in table.find(address, REGIONS)]

    assert scheme(Address(("foreigners_office",), "SE-Nord", "abh-seeland")) == ["workflow"]
    assert scheme(Address(("employer",), "SE-Nord", "klinik-seeblick")) == ["matrixs"]
    assert scheme(Address(("language_school",), "SE-Sued", "sprachschule-wortwerk")) == ["mmosts"]
    nord, sued = (table.find(Address(("housing",), r), REGIONS) for r in ("SE-Nord", "SE-Sued"))
    assert "wohnbau-nord" in nord[0].label and "genossenschaft-sued" in sued[0].label
