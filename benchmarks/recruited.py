"""Cases for the benchmarks, made through Lotse's own paths: opened for the employer `klinik` and
ready to `apply_visa`, their contract and recognition documents ticked by the coordinator `koord`
(both must be in the directory)."""

from __future__ import annotations

from typing import Any


def ready_for_visa(ctx: Any, count: int) -> list[str]:
    """The references of `count` new cases in `recruited`, ready for `apply_visa`."""
    from lotse.tasks import casework

    refs = []
    for n in range(count):
        ref = casework.open_case(ctx, given_name=f"Given{n}", family_name=f"Family{n}", nationality="PHL",
                                 employer="klinik")
        casework.tick(ctx, ref, ["employment_contract", "recognition_documents"], by="koord")
        refs.append(ref)
    return refs
