"""`lotse privacy record`: the Art. 30 record generated from the definitions, the directory and the
routes; processors by scheme and host, never a credential."""

from __future__ import annotations

from pathlib import Path

from lotse.config.settings import Settings
from lotse.tasks import directory, privacy_record
from lotse.tasks.context import Context
from tests.cli.conftest import Lotse
from tests.postgres import postgres_context

PASSWORD, TOKEN = "Geheim-4711", "tok3nXYZsecret"


def test_the_record_names_personal_data_recipients_retention_and_processors(
    alliance: Context, lotse: Lotse, tmp_path: Path,
) -> None:
    routes = tmp_path / "routes.yaml"
    routes.write_text(
        "version: 1\nurls:\n"
        f'  - "mailto://lotse:{PASSWORD}@smtp.example.org:587?to=koord@example.org":\n      tag: koord\n'
        f'  - "json://hooks.example.net/chat/{TOKEN}":\n      tag: housing\n', encoding="utf-8")
    env = {"LOTSE_NOTIFY_CONFIG": str(routes), "LOTSE_LOCALE": "en"}

    done = lotse("privacy", "record", "--format", "json", env=env)

    assert done.code == 0, done.err
    data = done.json()
    pflege = next(p for p in data["processes"] if p["process"] == "pflege v2")
    fields = {f["field"]: f["purpose"] for f in pflege["personal_data"]}
    assert {"given_name", "family_name", "nationality", "withdraw_reason"} <= set(fields)
    assert fields["nationality"] == "Nationality" and "arrival_date" not in fields
    assert pflege["retention"] == "3 years after closed"
    employer = next(r for r in pflege["recipients"] if r["role"] == "employer")
    assert "withdraw" in employer["told_of"] and employer["organisations"] == ["Klinik Nord (klinik-nord)"]
    assert "change_employer" in employer["told_of"]  # both employers of a change (docs/attrition.md)
    told = {r["role"]: r["told_of"] for r in pflege["recipients"]}
    # who takes over a removed organisation's cases or items, and the school of a course group
    assert "hand-over" in told["employer"] and "hand-over" in told["housing"]
    assert "course group" in told["language_school"]
    assert "withdraw_category" not in fields  # a category, no personal data
    assert data["processors"] == [
        {"channel": "chat", "scheme": "json", "host": "hooks.example.net"},
        {"channel": "email", "scheme": "mailto", "host": "smtp.example.org"},
    ]
    page = lotse("privacy", "record", env=env)
    assert page.code == 0
    assert page.out.startswith("# Verzeichnis von Verarbeitungstätigkeiten (Art. 30 DSGVO)")
    assert "- email: mailto://smtp.example.org" in page.out and "3 years after closed" in page.out
    for text in (done.out, page.out, done.err, page.err):
        assert PASSWORD not in text and TOKEN not in text and "lotse:" not in text


def test_a_bad_format_is_one_line(alliance: Context, lotse: Lotse) -> None:
    assert "--format 'pdf'" in lotse("privacy", "record", "--format", "pdf").error


def test_the_record_reads_the_directory_on_postgresql(settings: Settings) -> None:
    with postgres_context(settings) as ctx:
        directory.add_actor(ctx, "wohnbau-nord", name="Wohnbau Nord", roles=["housing"], region="SE-Nord")
        data = privacy_record.record(ctx)
    pflege = next(p for p in data["processes"] if p["process"] == "pflege v2")
    housing = next(r for r in pflege["recipients"] if r["role"] == "housing")
    assert housing["organisations"] == ["Wohnbau Nord (wohnbau-nord)"]
    assert pflege["retention"] == "3 years after closed"
