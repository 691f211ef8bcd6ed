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
    __slots__ = ("model", "n", "p", "c", "replicates", "seed", "m", "L", "phi", "degrees", "edge_lists")
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
    EDGE_LISTS_FIELD_NUMBER: _ClassVar[int]
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
    edge_lists: bool
    def __init__(self, model: _Optional[str] = ..., n: _Optional[int] = ..., p: _Optional[float] = ..., c: _Optional[float] = ..., replicates: _Optional[int] = ..., seed: _Optional[int] = ..., m: _Optional[int] = ..., L: _Optional[int] = ..., phi: _Optional[float] = ..., degrees: _Optional[_Union[DegreeDistribution, _Mapping]] = ..., edge_lists: _Optional[bool] = ...) -> None: ...

class GraphReplicate(_message.Message):
    __slots__ = ("edges", "largest", "second_largest", "components", "edge_list")
    EDGES_FIELD_NUMBER: _ClassVar[int]
    LARGEST_FIELD_NUMBER: _ClassVar[int]
    SECOND_LARGEST_FIELD_NUMBER: _ClassVar[int]
    COMPONENTS_FIELD_NUMBER: _ClassVar[int]
    EDGE_LIST_FIELD_NUMBER: _ClassVar[int]
    edges: int
    largest: int
    second_largest: int
    components: int
    edge_list: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, edges: _Optional[int] = ..., largest: _Optional[int] = ..., second_largest: _Optional[int] = ..., components: _Optional[int] = ..., edge_list: _Optional[_Iterable[int]] = ...) -> None: ...

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

class Grid(_message.Message):
    __slots__ = ("start", "stop", "points", "values")
    START_FIELD_NUMBER: _ClassVar[int]
    STOP_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    start: float
    stop: float
    points: int
    values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, start: _Optional[float] = ..., stop: _Optional[float] = ..., points: _Optional[int] = ..., values: _Optional[_Iterable[float]] = ...) -> None: ...

class SweepRequest(_message.Message):
    __slots__ = ("model", "n", "L", "degrees", "grid", "replicates", "seed")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    N_FIELD_NUMBER: _ClassVar[int]
    L_FIELD_NUMBER: _ClassVar[int]
    DEGREES_FIELD_NUMBER: _ClassVar[int]
    GRID_FIELD_NUMBER: _ClassVar[int]
    REPLICATES_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    model: str
    n: int
    L: int
    degrees: DegreeDistribution
    grid: Grid
    replicates: int
    seed: int
    def __init__(self, model: _Optional[str] = ..., n: _Optional[int] = ..., L: _Optional[int] = ..., degrees: _Optional[_Union[DegreeDistribution, _Mapping]] = ..., grid: _Optional[_Union[Grid, _Mapping]] = ..., replicates: _Optional[int] = ..., seed: _Optional[int] = ...) -> None: ...

class SweepPoint(_message.Message):
    __slots__ = ("control", "largest_fraction", "second_largest_fraction", "susceptibility", "clusters_per_node", "wrapping")
    CONTROL_FIELD_NUMBER: _ClassVar[int]
    LARGEST_FRACTION_FIELD_NUMBER: _ClassVar[int]
    SECOND_LARGEST_FRACTION_FIELD_NUMBER: _ClassVar[int]
    SUSCEPTIBILITY_FIELD_NUMBER: _ClassVar[int]
    CLUSTERS_PER_NODE_FIELD_NUMBER: _ClassVar[int]
    WRAPPING_FIELD_NUMBER: _ClassVar[int]
    control: float
    largest_fraction: _common_pb2.Stat
    second_largest_fraction: _common_pb2.Stat
    susceptibility: _common_pb2.Stat
    clusters_per_node: _common_pb2.Stat
    wrapping: _common_pb2.Stat
    def __init__(self, control: _Optional[float] = ..., largest_fraction: _Optional[_Union[_common_pb2.Stat, _Mapping]] = ..., second_largest_fraction: _Optional[_Union[_common_pb2.Stat, _Mapping]] = ..., susceptibility: _Optional[_Union[_common_pb2.Stat, _Mapping]] = ..., clusters_per_node: _Optional[_Union[_common_pb2.Stat, _Mapping]] = ..., wrapping: _Optional[_Union[_common_pb2.Stat, _Mapping]] = ...) -> None: ...

class TheoryPoint(_message.Message):
    __slots__ = ("control", "largest_fraction")
    CONTROL_FIELD_NUMBER: _ClassVar[int]
    LARGEST_FRACTION_FIELD_NUMBER: _ClassVar[int]
    control: float
    largest_fraction: float
    def __init__(self, control: _Optional[float] = ..., largest_fraction: _Optional[float] = ...) -> None: ...

class SweepCurve(_message.Message):
    __slots__ = ("model", "n", "control", "seed", "engine_version", "replicates", "points", "theory", "threshold")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    N_FIELD_NUMBER: _ClassVar[int]
    CONTROL_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    ENGINE_VERSION_FIELD_NUMBER: _ClassVar[int]
    REPLICATES_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    THEORY_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    model: str
    n: int
    control: str
    seed: int
    engine_version: str
    replicates: int
    points: _containers.RepeatedCompositeFieldContainer[SweepPoint]
    theory: _containers.RepeatedCompositeFieldContainer[TheoryPoint]
    threshold: float
    def __init__(self, model: _Optional[str] = ..., n: _Optional[int] = ..., control: _Optional[str] = ..., seed: _Optional[int] = ..., engine_version: _Optional[str] = ..., replicates: _Optional[int] = ..., points: _Optional[_Iterable[_Union[SweepPoint, _Mapping]]] = ..., theory: _Optional[_Iterable[_Union[TheoryPoint, _Mapping]]] = ..., threshold: _Optional[float] = ...) -> None: ...

class SweepProgress(_message.Message):
    __slots__ = ("done", "total", "fraction")
    DONE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    FRACTION_FIELD_NUMBER: _ClassVar[int]
    done: int
    total: int
    fraction: float
    def __init__(self, done: _Optional[int] = ..., total: _Optional[int] = ..., fraction: _Optional[float] = ...) -> None: ...

class SweepEvent(_message.Message):
    __slots__ = ("progress", "curve")
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    CURVE_FIELD_NUMBER: _ClassVar[int]
    progress: SweepProgress
    curve: SweepCurve
    def __init__(self, progress: _Optional[_Union[SweepProgress, _Mapping]] = ..., curve: _Optional[_Union[SweepCurve, _Mapping]] = ...) -> None: ...

class LossLaw(_message.Message):
    __slots__ = ("N_c", "alpha")
    N_C_FIELD_NUMBER: _ClassVar[int]
    ALPHA_FIELD_NUMBER: _ClassVar[int]
    N_c: float
    alpha: float
    def __init__(self, N_c: _Optional[float] = ..., alpha: _Optional[float] = ...) -> None: ...

class SimulateAbilitiesRequest(_message.Message):
    __slots__ = ("sizes", "k", "items", "metrics", "replicates", "seed", "loss_law", "token_accuracy", "options", "vocab_size")
    SIZES_FIELD_NUMBER: _ClassVar[int]
    K_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    REPLICATES_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    LOSS_LAW_FIELD_NUMBER: _ClassVar[int]
    TOKEN_ACCURACY_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    VOCAB_SIZE_FIELD_NUMBER: _ClassVar[int]
    sizes: _containers.RepeatedScalarFieldContainer[float]
    k: int
    items: int
    metrics: _containers.RepeatedScalarFieldContainer[str]
    replicates: int
    seed: int
    loss_law: LossLaw
    token_accuracy: _containers.RepeatedScalarFieldContainer[float]
    options: int
    vocab_size: int
    def __init__(self, sizes: _Optional[_Iterable[float]] = ..., k: _Optional[int] = ..., items: _Optional[int] = ..., metrics: _Optional[_Iterable[str]] = ..., replicates: _Optional[int] = ..., seed: _Optional[int] = ..., loss_law: _Optional[_Union[LossLaw, _Mapping]] = ..., token_accuracy: _Optional[_Iterable[float]] = ..., options: _Optional[int] = ..., vocab_size: _Optional[int] = ...) -> None: ...

class MetricPoint(_message.Message):
    __slots__ = ("size", "expected", "mean", "sd", "ci95")
    SIZE_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    SD_FIELD_NUMBER: _ClassVar[int]
    CI95_FIELD_NUMBER: _ClassVar[int]
    size: float
    expected: float
    mean: float
    sd: float
    ci95: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, size: _Optional[float] = ..., expected: _Optional[float] = ..., mean: _Optional[float] = ..., sd: _Optional[float] = ..., ci95: _Optional[_Iterable[float]] = ...) -> None: ...

class MetricCurve(_message.Message):
    __slots__ = ("points",)
    POINTS_FIELD_NUMBER: _ClassVar[int]
    points: _containers.RepeatedCompositeFieldContainer[MetricPoint]
    def __init__(self, points: _Optional[_Iterable[_Union[MetricPoint, _Mapping]]] = ...) -> None: ...

class SimulateAbilitiesResponse(_message.Message):
    __slots__ = ("sizes", "token_accuracy", "loss", "k", "items", "replicates", "seed", "options", "vocab_size", "curves", "engine_version")
    class CurvesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: MetricCurve
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[MetricCurve, _Mapping]] = ...) -> None: ...
    SIZES_FIELD_NUMBER: _ClassVar[int]
    TOKEN_ACCURACY_FIELD_NUMBER: _ClassVar[int]
    LOSS_FIELD_NUMBER: _ClassVar[int]
    K_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    REPLICATES_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    VOCAB_SIZE_FIELD_NUMBER: _ClassVar[int]
    CURVES_FIELD_NUMBER: _ClassVar[int]
    ENGINE_VERSION_FIELD_NUMBER: _ClassVar[int]
    sizes: _containers.RepeatedScalarFieldContainer[float]
    token_accuracy: _containers.RepeatedScalarFieldContainer[float]
    loss: _containers.RepeatedScalarFieldContainer[float]
    k: int
    items: int
    replicates: int
    seed: int
    options: int
    vocab_size: int
    curves: _containers.MessageMap[str, MetricCurve]
    engine_version: str
    def __init__(self, sizes: _Optional[_Iterable[float]] = ..., token_accuracy: _Optional[_Iterable[float]] = ..., loss: _Optional[_Iterable[float]] = ..., k: _Optional[int] = ..., items: _Optional[int] = ..., replicates: _Optional[int] = ..., seed: _Optional[int] = ..., options: _Optional[int] = ..., vocab_size: _Optional[int] = ..., curves: _Optional[_Mapping[str, MetricCurve]] = ..., engine_version: _Optional[str] = ...) -> None: ...
