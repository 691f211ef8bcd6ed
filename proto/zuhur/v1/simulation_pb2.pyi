from zuhur.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DegreeDistribution(_message.Message):
    __slots__ = ("kind", "mean", "gamma", "k_min", "k_max", "k")
    KIND_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    GAMMA_FIELD_NUMBER: _ClassVar[int]
    K_MIN_FIELD_NUMBER: _ClassVar[int]
    K_MAX_FIELD_NUMBER: _ClassVar[int]
    K_FIELD_NUMBER: _ClassVar[int]
    kind: str
    mean: float
    gamma: float
    k_min: int
    k_max: int
    k: int
    def __init__(self, kind: _Optional[str] = ..., mean: _Optional[float] = ..., gamma: _Optional[float] = ..., k_min: _Optional[int] = ..., k_max: _Optional[int] = ..., k: _Optional[int] = ...) -> None: ...

class SampleGraphRequest(_message.Message):
    __slots__ = ("model", "n", "p", "c", "replicates", "seed", "m", "L", "phi", "degrees")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    N_FIELD_NUMBER: _ClassVar[int]
    P_FIELD_NUMBER: _ClassVar[int]
    C_FIELD_NUMBER: _ClassVar[int]
    REPLICATES_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    M_FIELD_NUMBER: _ClassVar[int]
    L_FIELD_NUMBER: _ClassVar[int]
    PHI_FIELD_NUMBER: _ClassVar[int]
    DEGREES_FIELD_NUMBER: _ClassVar[int]
    model: str
    n: int
    p: float
    c: float
    replicates: int
    seed: int
    m: int
    L: int
    phi: float
    degrees: DegreeDistribution
    def __init__(self, model: _Optional[str] = ..., n: _Optional[int] = ..., p: _Optional[float] = ..., c: _Optional[float] = ..., replicates: _Optional[int] = ..., seed: _Optional[int] = ..., m: _Optional[int] = ..., L: _Optional[int] = ..., phi: _Optional[float] = ..., degrees: _Optional[_Union[DegreeDistribution, _Mapping]] = ...) -> None: ...

class GraphReplicate(_message.Message):
    __slots__ = ("edges", "largest", "second_largest", "components")
    EDGES_FIELD_NUMBER: _ClassVar[int]
    LARGEST_FIELD_NUMBER: _ClassVar[int]
    SECOND_LARGEST_FIELD_NUMBER: _ClassVar[int]
    COMPONENTS_FIELD_NUMBER: _ClassVar[int]
    edges: int
    largest: int
    second_largest: int
    components: int
    def __init__(self, edges: _Optional[int] = ..., largest: _Optional[int] = ..., second_largest: _Optional[int] = ..., components: _Optional[int] = ...) -> None: ...

class SampleGraphResponse(_message.Message):
    __slots__ = ("model", "n", "p", "seed", "engine_version", "replicates", "largest_fraction", "theory_largest_fraction")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    N_FIELD_NUMBER: _ClassVar[int]
    P_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    ENGINE_VERSION_FIELD_NUMBER: _ClassVar[int]
    REPLICATES_FIELD_NUMBER: _ClassVar[int]
    LARGEST_FRACTION_FIELD_NUMBER: _ClassVar[int]
    THEORY_LARGEST_FRACTION_FIELD_NUMBER: _ClassVar[int]
    model: str
    n: int
    p: float
    seed: int
    engine_version: str
    replicates: _containers.RepeatedCompositeFieldContainer[GraphReplicate]
    largest_fraction: _common_pb2.Stat
    theory_largest_fraction: float
    def __init__(self, model: _Optional[str] = ..., n: _Optional[int] = ..., p: _Optional[float] = ..., seed: _Optional[int] = ..., engine_version: _Optional[str] = ..., replicates: _Optional[_Iterable[_Union[GraphReplicate, _Mapping]]] = ..., largest_fraction: _Optional[_Union[_common_pb2.Stat, _Mapping]] = ..., theory_largest_fraction: _Optional[float] = ...) -> None: ...
