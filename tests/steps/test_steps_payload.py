"""Step payloads: JSON round trip, large values by reference, signing and tampering."""

from __future__ import annotations

import base64
import json
import os

import pytest
import step_test_tasks as tt

from graflow_core.signing import MissingSigningKeyError, SignatureVerificationError
from graflow_core.steps import (
    StepInputs,
    StepOutput,
    StepPayloadError,
    ValueStore,
    run_plan,
    run_step,
)

REF = "step_test_tasks:build_big"


def _run_first_two(store: str, size: int) -> tuple[StepOutput, StepOutput]:
    params = {"size": size}
    big = run_step(REF, "make_big", StepInputs(params), workflow_run_id="r1", store=store)
    blob = run_step(
        REF,
        "make_blob",
        StepInputs(params, {"make_big": big.to_payload()}),
        workflow_run_id="r1",
        store=store,
    )
    return big, blob


def test_small_json_values_are_inline_and_need_no_key(monkeypatch, store_dir):
    monkeypatch.delenv("GRAFLOW_SECRET_KEY", raising=False)
    out = run_step(REF, "make_big", {"params": {"size": 3}}, workflow_run_id="r", store=store_dir)
    payload = out.to_payload()
    assert json.loads(json.dumps(payload)) == payload
    assert payload["state"]["make_big.__result__"] == [0, "j", [0, 1, 2]]
    assert payload["own"] == ["make_big.__result__"]
    assert StepOutput.from_payload(json.loads(json.dumps(payload))).results == {
        "make_big": [0, 1, 2]
    }
    assert os.listdir(store_dir) == []


def test_large_values_go_by_reference_and_are_passed_on_unchanged(signing_key, store_dir):
    big, blob = _run_first_two(store_dir, 60_000)
    entry = big.state["make_big.__result__"]
    assert entry[1] == "r" and entry[2]["format"] == "j"
    blob_entry = blob.state["make_blob.__result__"]
    assert blob_entry[1] == "r" and blob_entry[2]["format"] == "p"
    # The downstream output carries the upstream reference as is (written once).
    assert blob.state["make_big.__result__"] == entry
    assert len(json.dumps(blob.to_payload())) < 2000
    files = os.listdir(os.path.join(store_dir, "r1"))
    assert len(files) == 2
    out = run_step(
        REF,
        "measure",
        StepInputs({"size": 60_000}, {"make_blob": blob.to_payload()}),
        workflow_run_id="r1",
        store=store_dir,
    )
    assert out.result == 120_000


def test_small_non_json_values_are_signed_inline_pickles(signing_key, store_dir):
    _big, blob = _run_first_two(store_dir, 10)
    kind = blob.state["make_blob.__result__"][1]
    assert kind == "p"
    again = StepOutput.from_payload(json.loads(json.dumps(blob.to_payload())))
    assert again.results["make_blob"] == tt.Blob(b"x" * 10)


def test_a_tampered_inline_pickle_is_refused(signing_key, store_dir):
    _big, blob = _run_first_two(store_dir, 10)
    payload = blob.to_payload()
    item = payload["state"]["make_blob.__result__"]
    raw = bytearray(base64.b64decode(item[2]))
    raw[-1] ^= 1
    item[2] = base64.b64encode(bytes(raw)).decode()
    forged = StepOutput.from_payload(payload)
    with pytest.raises(SignatureVerificationError):
        forged.value("make_blob.__result__")


def test_a_pickle_signed_with_another_key_is_refused(monkeypatch, signing_key, store_dir):
    _big, blob = _run_first_two(store_dir, 10)
    payload = blob.to_payload()
    monkeypatch.setenv("GRAFLOW_SECRET_KEY", "z" * 64)
    with pytest.raises(SignatureVerificationError):
        StepOutput.from_payload(payload).value("make_blob.__result__")


def test_a_tampered_or_swapped_stored_value_is_refused(signing_key, store_dir):
    big, blob = _run_first_two(store_dir, 60_000)
    ref = blob.state["make_blob.__result__"][2]
    path = ref["uri"]
    with open(path, "rb") as fh:
        data = bytearray(fh.read())
    data[-1] ^= 1
    with open(path, "wb") as fh:
        fh.write(bytes(data))
    fresh = ValueStore(store_dir)
    with pytest.raises(SignatureVerificationError):
        fresh.decode(["r", ref])
    # A validly signed value under another value's reference: the digest does not match.
    other = big.state["make_big.__result__"][2]
    with pytest.raises(StepPayloadError, match="digest"):
        ValueStore(store_dir).decode(["r", {**other, "sha256": ref["sha256"]}])


def test_a_missing_stored_value_says_the_store_must_be_shared(signing_key, store_dir, tmp_path):
    _big, blob = _run_first_two(store_dir, 60_000)
    ref = blob.state["make_blob.__result__"][2]
    os.remove(ref["uri"])
    with pytest.raises(StepPayloadError, match="GRAFLOW_STEP_STORE"):
        ValueStore(str(tmp_path / "elsewhere")).decode(["r", ref])


def test_storing_needs_the_signing_key(monkeypatch, store_dir):
    monkeypatch.delenv("GRAFLOW_SECRET_KEY", raising=False)
    monkeypatch.delenv("GRAFLOW_INSECURE_UNSIGNED_CHECKPOINTS", raising=False)
    with pytest.raises(MissingSigningKeyError):
        run_step(
            REF, "make_big", {"params": {"size": 20_000}}, workflow_run_id="r", store=store_dir
        )


def test_inline_limit_is_configurable(signing_key, store_dir, monkeypatch):
    out = run_step(
        REF,
        "make_big",
        {"params": {"size": 50}},
        workflow_run_id="r",
        store=store_dir,
        inline_max=10,
    )
    assert out.state["make_big.__result__"][1] == "r"
    monkeypatch.setenv("GRAFLOW_STEP_INLINE_MAX", "nope")
    from graflow_core.exceptions import ConfigError

    with pytest.raises(ConfigError, match="GRAFLOW_STEP_INLINE_MAX"):
        ValueStore(store_dir)


def test_malformed_payloads_are_named(store_dir):
    with pytest.raises(StepPayloadError, match="Not a graflow step output"):
        StepOutput.from_payload({"state": {}})
    with pytest.raises(StepPayloadError, match="payload version"):
        StepOutput.from_payload({"format": "graflow-step-output", "version": 99, "step": "a"})
    with pytest.raises(StepPayloadError, match="Malformed"):
        StepOutput.from_payload({"format": "graflow-step-output", "version": 1, "step": "a"})
    with pytest.raises(StepPayloadError, match="malformed value entry"):
        ValueStore(store_dir).decode(["x", 1])


def test_whole_run_with_large_values_in_processes(signing_key, store_dir):
    run = run_plan(REF, {"size": 30_000}, processes=True, store=store_dir)
    assert run.result == 60_000
    assert run.channel["make_big.__result__"] == list(range(30_000))


def test_a_finished_runs_values_can_be_deleted(signing_key, store_dir):
    _run_first_two(store_dir, 60_000)
    store = ValueStore(store_dir)
    assert store.delete_run("r1") == 2
    assert os.listdir(os.path.join(store_dir, "r1")) == []
    assert store.delete_run("never-ran") == 0


def test_an_fsspec_url_works_as_value_store(signing_key):
    pytest.importorskip("fsspec")
    url = f"memory://graflow-steps-test/{os.urandom(4).hex()}"
    run = run_plan(REF, {"size": 60_000}, processes=False, store=url, workflow_run_id="dag/1")
    assert run.result == 120_000
    ref = run.outputs["make_big"].state["make_big.__result__"][2]
    assert ref["uri"].startswith(f"{url}/dag_1/")
    assert ValueStore(url).delete_run("dag/1") == 2
