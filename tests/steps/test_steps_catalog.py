"""The example catalogue (graflow_core.testing.catalog) is what it claims natively."""

from __future__ import annotations

import pytest

from graflow_core.spec import build_spec, load_workflow
from graflow_core.testing.catalog import EXAMPLES, channel_dict, check_outcome, run_native

_PASSING = [e for e in EXAMPLES if e.error is None]
_FAILING = [e for e in EXAMPLES if e.error is not None]


@pytest.mark.parametrize("example", _PASSING, ids=lambda e: e.name)
def test_every_example_gives_its_expected_outcome_natively(example, tmp_path):
    result, channel = run_native(example, scratch_dir=str(tmp_path))
    check_outcome(example, result, channel)


@pytest.mark.parametrize("example", _FAILING, ids=lambda e: e.name)
def test_failing_examples_raise_the_declared_error(example):
    with pytest.raises(example.error) as info:
        run_native(example)
    assert isinstance(info.value.__cause__, example.error_cause)


@pytest.mark.parametrize("example", _PASSING, ids=lambda e: e.name)
def test_examples_load_back_from_their_spec_and_run_alike(example, tmp_path):
    spec = build_spec(example.build())
    wf = load_workflow(spec.to_json())
    result, ctx = wf.execute(
        start_node=spec.start_node,
        ret_context=True,
        initial_channel=example.run_params(str(tmp_path)),
    )
    check_outcome(example, result, channel_dict(ctx))


def test_check_outcome_notices_a_wrong_result():
    example = EXAMPLES[0]
    result, channel = run_native(example)
    with pytest.raises(AssertionError, match="result"):
        check_outcome(example, "something else", channel)
    with pytest.raises(AssertionError, match="unexpected channel keys"):
        check_outcome(example, result, {**channel, "stray": 1})


def test_builders_return_fresh_workflows():
    example = EXAMPLES[0]
    assert example.build() is not example.build()
    assert example.reference == "graflow_core.testing.catalog:build_linear"
