"""Proto comments as documentation: parsing, completeness, and agreement with the services."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, get_args

import pytest
from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import Descriptor, FileDescriptor

from gateway.core.protodoc import DESCRIPTOR_SET, Doc, doc_of, parse_comment
from services.fitting import mirage, results
from services.fitting import server as fitting_server
from services.fitting.emergence import evidence, fit, series, verdict
from services.fitting.limits import FitLimits
from services.simulation import abilities, models
from services.simulation.limits import Limits
from zuhur.v1 import common_pb2, fitting_pb2, simulation_pb2

FILES: list[FileDescriptor] = [
    common_pb2.DESCRIPTOR,
    simulation_pb2.DESCRIPTOR,
    fitting_pb2.DESCRIPTOR,
]


def all_messages(messages: list[Descriptor] | None = None) -> list[Descriptor]:
    """Every message of the three protos, nested ones included, map entries left out."""
    if messages is None:
        messages = [m for f in FILES for m in f.message_types_by_name.values()]
    out = []
    for m in messages:
        if not m.GetOptions().map_entry:
            out.append(m)
            out.extend(all_messages(list(m.nested_types)))
    return out


def test_comment_tags_are_parsed_and_kept_out_of_the_prose() -> None:
    doc = parse_comment(
        " Number of nodes (>= 2);\n not used by the lattices.\n @unit nodes\n"
        " @minimum 2\n @maximum simulation.max_nodes\n"
    )
    assert doc == Doc(
        description="Number of nodes (>= 2); not used by the lattices.",
        unit="nodes",
        minimum=2.0,
        maximum="simulation.max_nodes",
    )
    assert doc.text() == "Number of nodes (>= 2); not used by the lattices. Unit: nodes."
    choices = parse_comment(" A model.\n @choices a, b_c ,d\n @max_items 7\n")
    assert choices.choices == ("a", "b_c", "d") and choices.max_items == 7.0
    assert parse_comment(" First.\n\n Second.\n").description == "First.\n\nSecond."


@pytest.mark.parametrize(
    "comment", [" @units nodes\n", " @maximum lots\n", " @max_items Simulation.Max\n"]
)
def test_a_malformed_tag_is_an_error_not_silence(comment: str) -> None:
    with pytest.raises(ValueError):
        parse_comment(comment)


def _without_json_names(messages: Any) -> None:
    """protoc writes json_name into descriptor sets, not into the generated code."""
    for m in messages:
        for f in m.field:
            f.ClearField("json_name")
        _without_json_names(m.nested_type)


def test_descriptor_set_is_the_compiled_protos_plus_comments() -> None:
    """The committed descriptor set describes exactly what the generated code was built from."""
    files = descriptor_pb2.FileDescriptorSet.FromString(DESCRIPTOR_SET.read_bytes()).file
    by_name = {f.name: f for f in files}
    assert set(by_name) == {f.name for f in FILES}
    for compiled in FILES:
        stored = descriptor_pb2.FileDescriptorProto()
        stored.CopyFrom(by_name[compiled.name])
        assert stored.HasField("source_code_info"), "descriptor set built without source info"
        stored.ClearField("source_code_info")
        _without_json_names(stored.message_type)
        expected = descriptor_pb2.FileDescriptorProto.FromString(compiled.serialized_pb)
        assert stored == expected, f"{compiled.name}: descriptor set is stale (run make proto)"


@pytest.mark.parametrize("message", all_messages(), ids=lambda m: m.full_name)
def test_every_message_and_field_has_a_description(message: Descriptor) -> None:
    if message.fields:
        assert doc_of(message.full_name).description, f"{message.full_name} has no comment"
    missing = [f.name for f in message.fields if not doc_of(f.full_name).description]
    assert not missing, f"{message.full_name}: fields without a comment: {missing}"


def _scaling_forms() -> tuple[str, ...]:
    return tuple(fitting_server.SCALING_FORMS)


# Each closed vocabulary in the protos and the set the service accepts or returns.
SERVICE_SETS: dict[str, tuple[str, ...]] = {
    "zuhur.v1.SampleGraphRequest.model": models.MODELS,
    "zuhur.v1.SampleGraphResponse.model": models.MODELS,
    "zuhur.v1.SweepRequest.model": models.MODELS,
    "zuhur.v1.SweepCurve.model": models.MODELS,
    "zuhur.v1.DegreeDistribution.kind": models.DEGREE_KINDS,
    "zuhur.v1.SimulateAbilitiesRequest.metrics": abilities.METRICS,
    "zuhur.v1.FitScalingLawRequest.form": _scaling_forms(),
    "zuhur.v1.FitResult.interval_method": get_args(results.IntervalMethod),
    "zuhur.v1.EmergenceResult.verdict": get_args(verdict.Verdict),
    "zuhur.v1.EmergenceResult.likelihood": get_args(evidence.Likelihood),
    "zuhur.v1.EmergenceResult.sigmoid": evidence.SIGMOIDS,
    "zuhur.v1.EmergenceResult.best_smooth": evidence.SMOOTH_LAWS,
    "zuhur.v1.EmergenceResult.threshold_side": get_args(fit.ThresholdSide),
    "zuhur.v1.FitEmergenceRequest.scale_kind": series.SCALE_KINDS,
    "zuhur.v1.EmergenceResult.scale_kind": series.SCALE_KINDS,
    "zuhur.v1.EmergenceSeries.scale_kind": series.SCALE_KINDS,
    "zuhur.v1.FitEmergenceBatchRequest.scale_kind": series.SCALE_KINDS,
    "zuhur.v1.MirageResult.evidence": mirage.EVIDENCE,
}


@pytest.mark.parametrize("field", sorted(SERVICE_SETS))
def test_choices_are_what_the_service_accepts(field: str) -> None:
    assert set(doc_of(field).choices) == set(SERVICE_SETS[field])


def test_every_choices_tag_is_tied_to_a_service_set() -> None:
    tagged = {f.full_name for m in all_messages() for f in m.fields if doc_of(f.full_name).choices}
    assert tagged == set(SERVICE_SETS)


def test_every_named_limit_is_a_configured_limit() -> None:
    """Names in @maximum/@max_items are keys the services report in Info."""
    known = {f"simulation.{k}" for k in asdict(Limits())}
    known |= {f"simulation.abilities_{k}" for k in asdict(abilities.AbilityLimits())}
    known |= {f"fitting.{k}" for k in asdict(FitLimits())}
    named = {
        bound
        for m in all_messages()
        for f in m.fields
        for bound in (doc_of(f.full_name).maximum, doc_of(f.full_name).max_items)
        if isinstance(bound, str)
    }
    assert named and named <= known, named - known
