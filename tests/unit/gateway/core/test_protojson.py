"""The gateway's JSON mapping against protobuf's own json_format, and request validation."""

from __future__ import annotations

import math
from typing import Any

import pytest
from google.protobuf import json_format
from pydantic import ValidationError

from gateway.core.protojson import from_json, model_for, to_json
from zuhur.v1 import common_pb2, fitting_pb2, simulation_pb2


def peer_json(message: Any) -> dict[str, Any]:
    """json_format's view, with 64-bit integers turned back from strings into numbers."""

    def fix(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fix(v) for v in value]
        if isinstance(value, str) and value.lstrip("-").isdigit():
            return int(value)
        return value

    return fix(json_format.MessageToDict(message, preserving_proto_field_name=True))  # type: ignore[no-any-return]


def sample_response() -> simulation_pb2.SampleGraphResponse:
    return simulation_pb2.SampleGraphResponse(
        model="erdos_renyi",
        n=10**7,
        p=2e-7,
        seed=2**53 - 1,
        engine_version="sim-x",
        replicates=[simulation_pb2.GraphReplicate(edges=9_999_000, largest=7_968_000)],
        largest_fraction=common_pb2.Stat(mean=0.7968, std=0.0003),
    )


def fit_result() -> fitting_pb2.FitResult:
    result = fitting_pb2.FitResult(model="power_law", aic=-3.5, n=6, converged=True, r2=0.99)
    result.params["alpha"].CopyFrom(
        fitting_pb2.ParamEstimate(value=1.0, stderr=0.1, ci95=[0.8, 1.2])
    )
    result.predictions.add(x={"x": 64.0}, value=0.15, ci95=[0.1, 0.2])
    return result


@pytest.mark.parametrize("message", [sample_response(), fit_result()])
def test_to_json_agrees_with_json_format(message: Any) -> None:
    ours = to_json(message)
    peer = peer_json(message)

    # json_format omits fields at their default value; ours prints them. Compare on the peer's.
    def subset(a: Any, b: Any) -> None:
        if isinstance(b, dict):
            for k, v in b.items():
                subset(a[k], v)
        elif isinstance(b, list):
            assert len(a) == len(b)
            for x, y in zip(a, b, strict=True):
                subset(x, y)
        else:
            assert a == b and type(a) is type(b), (a, b)

    subset(ours, peer)
    if isinstance(message, simulation_pb2.SampleGraphResponse):
        assert ours["seed"] == 2**53 - 1 and isinstance(ours["n"], int)  # numbers, not strings


def test_unset_optionals_are_left_out_and_nan_is_null() -> None:
    result = fitting_pb2.FitResult(model="m", aic=math.nan)
    data = to_json(result)
    assert "r2" not in data and "seed" not in data and "holdout" not in data
    assert data["aic"] is None


def test_json_round_trip_through_the_request_model() -> None:
    body = {
        "model": "configuration",
        "n": 1000,
        "degrees": {"kind": "power_law", "gamma": 2.5, "k_min": 2},
        "grid": {"values": [0.1, 0.5]},
        "replicates": 3,
        "seed": 9,
    }
    model = model_for(simulation_pb2.SweepRequest.DESCRIPTOR, request=True)
    message = from_json(model(**body).model_dump(), simulation_pb2.SweepRequest)
    assert json_format.ParseDict(body, simulation_pb2.SweepRequest()) == message
    assert not message.HasField("L")  # absent stays unset, so the service can tell


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"n": "ten"}, "n"),
        ({"seed": -1}, "seed"),
        ({"replicates": 2**31}, "replicates"),
        ({"grid": {"points": 3, "colour": 1}}, "colour"),
    ],
)
def test_request_model_rejects_bad_json_naming_the_field(body: dict, field: str) -> None:
    model = model_for(simulation_pb2.SweepRequest.DESCRIPTOR, request=True)
    with pytest.raises(ValidationError) as info:
        model(**body)
    assert field in str(info.value)


def test_map_entries_come_out_in_key_order_whatever_the_insertion_order() -> None:
    """Two processes holding the same map answer the same JSON bytes: protobuf's own map
    order follows a per-process hash seed, so to_json sorts the keys."""
    names = ["token_accuracy", "exact_match", "multiple_choice", "edit_distance", "brier"]
    built = []
    for order in (names, names[::-1]):
        message = simulation_pb2.SimulateAbilitiesResponse()
        for name in order:
            message.curves[name].points.add()
        built.append(list(to_json(message)["curves"]))
    assert built == [sorted(names)] * 2
