"""Preflight tells the truth about the catalogue: for every example and target, each feature the
example uses that the target does not support natively is in ``preflight(spec, target)``'s
report, and no example that runs on a target (all of them do: test_conformance_catalog) is
reported as an error for it."""

from __future__ import annotations

from pathlib import Path

import pytest
from conformance_support import ENGINES

from graflow_core.spec import FEATURES, build_spec, get_target
from graflow_core.spec.preflight_check import feature_uses, preflight
from graflow_core.testing.catalog import EXAMPLES, Example


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_declared_features_are_the_ones_preflight_finds(example: Example) -> None:
    """An example's ``features`` are real feature names, and preflight sees each use."""
    unknown = [f for f in example.features if f.split(".", 1)[0] not in FEATURES]
    assert not unknown, unknown
    found = {use.feature for use in feature_uses(build_spec(example.build()))}
    assert set(example.features) <= found, sorted(set(example.features) - found)


@pytest.mark.parametrize("target", ENGINES)
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_every_feature_not_native_on_a_target_is_reported(example: Example, target: str) -> None:
    spec = build_spec(example.build())
    capabilities = get_target(target).capabilities
    report = preflight(spec, target)
    reported = {f.feature: f for f in report.findings}
    for use in feature_uses(spec):
        support = capabilities.support(use.feature)
        if support.level == "native":
            assert use.feature not in reported, (use.feature, reported[use.feature].message)
            continue
        assert use.feature in reported, f"{target}: {use.feature} ({support.level}) not reported"
        assert reported[use.feature].level == support.level
    assert report.ok, f"{example.name} runs on {target}, yet preflight says: {report}"


def test_the_catalogue_covers_every_feature_family_it_can() -> None:
    """Every feature of FEATURES is used by some example, except those needing a plugin or a
    registration outside the workflow's module (listed in docs/conformance.md)."""
    used = {f.split(".", 1)[0] for e in EXAMPLES for f in e.features}
    used |= {
        u.feature.split(".", 1)[0] for e in EXAMPLES for u in feature_uses(build_spec(e.build()))
    }
    not_covered = set(FEATURES) - used
    assert not_covered == NOT_IN_CATALOGUE, sorted(not_covered)
    policies = {f for e in EXAMPLES for f in e.features if f.startswith("group_policy.")}
    assert policies == {
        f"group_policy.{p}" for p in ("strict", "best_effort", "critical", "at_least_n", "custom")
    }


#: Features no catalogue example uses: each needs something registered outside the workflow
#: (a task type plugin, a circuit breaker, a custom handler, an LLM client or agent).
NOT_IN_CATALOGUE = {"task_type", "circuit_breakers", "custom_handlers", "llm_client", "llm_agent"}


def test_the_support_matrix_in_the_docs_is_the_targets_capabilities() -> None:
    """docs/conformance.md's matrix: each row's levels are the targets' capabilities, and each
    example it names uses the feature."""
    doc = Path(__file__).resolve().parents[2] / "docs" / "conformance.md"
    rows = {}
    for line in doc.read_text(encoding="utf-8").splitlines():
        if line.startswith("| `"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if len(cells) == 5:
                rows[cells[0].strip("`")] = cells[1:]
    families = {f.split(".", 1)[0] for f in rows}
    assert families == set(FEATURES)
    uses: dict[str, set[str]] = {}
    for e in EXAMPLES:
        for u in feature_uses(build_spec(e.build())):
            uses.setdefault(u.feature, set()).add(e.name)
    for feature, (airflow, prefect, dagster, examples) in rows.items():
        for target, level in (("airflow", airflow), ("prefect", prefect), ("dagster", dagster)):
            assert get_target(target).capabilities.support(feature).level == level, (
                feature,
                target,
            )
        named = {n.strip() for n in examples.split(",")} - {"…", "—"}
        assert named <= uses.get(feature, set()), (feature, named)
        assert (examples == "—") == (feature.split(".", 1)[0] in NOT_IN_CATALOGUE), feature
