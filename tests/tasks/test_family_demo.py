"""The demo alliance (`make demo`) shows a family: one pflege case in arrival has a partner with
her and a child who follows later, with their needs open and their owners in the directory."""

from __future__ import annotations

from lotse.tasks import case_file, demo, family
from lotse.tasks.context import Context


def test_one_demo_case_has_a_partner_and_a_child_who_follows_with_their_needs_open(ctx: Context) -> None:
    demo.create(ctx)

    families = {row["ref"]: family.members(ctx, row["ref"])["family"] for row in case_file.list_cases(ctx)}
    [(ref, members)] = [(ref, members) for ref, members in families.items() if members]

    assert case_file.case_file(ctx, ref)["stage"] == "arrival"
    assert [(m["relation"], m["arrives"] is not None) for m in members] == [
        ("spouse", False), ("child", True)]
    needs = {n["item"]: n for m in members for n in m["needs"]}
    assert set(needs) == {"family_spouse_language_course", "family_spouse_job_search",
                          "family_child1_kita_place", "family_child1_reunification_visa"}
    assert all(not n["done"] and n["due"] for n in needs.values())
    owners = {n["owner"] for n in needs.values()}
    assert owners <= {role for _, _, roles, _ in demo.ACTORS for role in roles}
