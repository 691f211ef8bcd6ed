from zuhur.v1 import common_pb2 as _common_pb2
from zuhur.v1 import simulation_pb2 as _simulation_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FitPowerLawRequest(_message.Message):
    __slots__ = ("x", "y", "offset", "sigma", "absolute_sigma", "predict_x", "bootstrap", "seed", "holdout_largest")
    X_FIELD_NUMBER: _ClassVar[int]
    Y_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    SIGMA_FIELD_NUMBER: _ClassVar[int]
    ABSOLUTE_SIGMA_FIELD_NUMBER: _ClassVar[int]
    PREDICT_X_FIELD_NUMBER: _ClassVar[int]
    BOOTSTRAP_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    HOLDOUT_LARGEST_FIELD_NUMBER: _ClassVar[int]
    x: _containers.RepeatedScalarFieldContainer[float]
    y: _containers.RepeatedScalarFieldContainer[float]
    offset: bool
    sigma: _containers.RepeatedScalarFieldContainer[float]
    absolute_sigma: bool
    predict_x: _containers.RepeatedScalarFieldContainer[float]
    bootstrap: int
    seed: int
    holdout_largest: int
    def __init__(self, x: _Optional[_Iterable[float]] = ..., y: _Optional[_Iterable[float]] = ..., offset: _Optional[bool] = ..., sigma: _Optional[_Iterable[float]] = ..., absolute_sigma: _Optional[bool] = ..., predict_x: _Optional[_Iterable[float]] = ..., bootstrap: _Optional[int] = ..., seed: _Optional[int] = ..., holdout_largest: _Optional[int] = ...) -> None: ...

class FitScalingLawRequest(_message.Message):
    __slots__ = ("form", "N", "D", "loss", "delta", "polish_starts", "bootstrap", "seed", "predict_N", "predict_D", "predict_C", "holdout_largest")
    FORM_FIELD_NUMBER: _ClassVar[int]
    N_FIELD_NUMBER: _ClassVar[int]
    D_FIELD_NUMBER: _ClassVar[int]
    LOSS_FIELD_NUMBER: _ClassVar[int]
    DELTA_FIELD_NUMBER: _ClassVar[int]
    POLISH_STARTS_FIELD_NUMBER: _ClassVar[int]
    BOOTSTRAP_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    PREDICT_N_FIELD_NUMBER: _ClassVar[int]
    PREDICT_D_FIELD_NUMBER: _ClassVar[int]
    PREDICT_C_FIELD_NUMBER: _ClassVar[int]
    HOLDOUT_LARGEST_FIELD_NUMBER: _ClassVar[int]
    form: str
    N: _containers.RepeatedScalarFieldContainer[float]
    D: _containers.RepeatedScalarFieldContainer[float]
    loss: _containers.RepeatedScalarFieldContainer[float]
    delta: float
    polish_starts: int
    bootstrap: int
    seed: int
    predict_N: _containers.RepeatedScalarFieldContainer[float]
    predict_D: _containers.RepeatedScalarFieldContainer[float]
    predict_C: _containers.RepeatedScalarFieldContainer[float]
    holdout_largest: int
    def __init__(self, form: _Optional[str] = ..., N: _Optional[_Iterable[float]] = ..., D: _Optional[_Iterable[float]] = ..., loss: _Optional[_Iterable[float]] = ..., delta: _Optional[float] = ..., polish_starts: _Optional[int] = ..., bootstrap: _Optional[int] = ..., seed: _Optional[int] = ..., predict_N: _Optional[_Iterable[float]] = ..., predict_D: _Optional[_Iterable[float]] = ..., predict_C: _Optional[_Iterable[float]] = ..., holdout_largest: _Optional[int] = ...) -> None: ...

class FitBrokenPowerLawRequest(_message.Message):
    __slots__ = ("x", "y", "breaks", "predict_x", "bootstrap", "seed", "holdout_largest")
    X_FIELD_NUMBER: _ClassVar[int]
    Y_FIELD_NUMBER: _ClassVar[int]
    BREAKS_FIELD_NUMBER: _ClassVar[int]
    PREDICT_X_FIELD_NUMBER: _ClassVar[int]
    BOOTSTRAP_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    HOLDOUT_LARGEST_FIELD_NUMBER: _ClassVar[int]
    x: _containers.RepeatedScalarFieldContainer[float]
    y: _containers.RepeatedScalarFieldContainer[float]
    breaks: int
    predict_x: _containers.RepeatedScalarFieldContainer[float]
    bootstrap: int
    seed: int
    holdout_largest: int
    def __init__(self, x: _Optional[_Iterable[float]] = ..., y: _Optional[_Iterable[float]] = ..., breaks: _Optional[int] = ..., predict_x: _Optional[_Iterable[float]] = ..., bootstrap: _Optional[int] = ..., seed: _Optional[int] = ..., holdout_largest: _Optional[int] = ...) -> None: ...

class SizeCurve(_message.Message):
    __slots__ = ("size", "control", "largest_fraction", "susceptibility")
    SIZE_FIELD_NUMBER: _ClassVar[int]
    CONTROL_FIELD_NUMBER: _ClassVar[int]
    LARGEST_FRACTION_FIELD_NUMBER: _ClassVar[int]
    SUSCEPTIBILITY_FIELD_NUMBER: _ClassVar[int]
    size: float
    control: _containers.RepeatedScalarFieldContainer[float]
    largest_fraction: _containers.RepeatedScalarFieldContainer[float]
    susceptibility: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, size: _Optional[float] = ..., control: _Optional[_Iterable[float]] = ..., largest_fraction: _Optional[_Iterable[float]] = ..., susceptibility: _Optional[_Iterable[float]] = ...) -> None: ...

class FitCriticalPointRequest(_message.Message):
    __slots__ = ("curves", "sweeps", "one_over_nu", "bootstrap", "seed")
    CURVES_FIELD_NUMBER: _ClassVar[int]
    SWEEPS_FIELD_NUMBER: _ClassVar[int]
    ONE_OVER_NU_FIELD_NUMBER: _ClassVar[int]
    BOOTSTRAP_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    curves: _containers.RepeatedCompositeFieldContainer[SizeCurve]
    sweeps: _containers.RepeatedCompositeFieldContainer[_simulation_pb2.SweepCurve]
    one_over_nu: float
    bootstrap: int
    seed: int
    def __init__(self, curves: _Optional[_Iterable[_Union[SizeCurve, _Mapping]]] = ..., sweeps: _Optional[_Iterable[_Union[_simulation_pb2.SweepCurve, _Mapping]]] = ..., one_over_nu: _Optional[float] = ..., bootstrap: _Optional[int] = ..., seed: _Optional[int] = ...) -> None: ...

class ParamEstimate(_message.Message):
    __slots__ = ("value", "stderr", "ci95")
    VALUE_FIELD_NUMBER: _ClassVar[int]
    STDERR_FIELD_NUMBER: _ClassVar[int]
    CI95_FIELD_NUMBER: _ClassVar[int]
    value: float
    stderr: float
    ci95: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, value: _Optional[float] = ..., stderr: _Optional[float] = ..., ci95: _Optional[_Iterable[float]] = ...) -> None: ...

class Prediction(_message.Message):
    __slots__ = ("x", "value", "ci95")
    class XEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    X_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    CI95_FIELD_NUMBER: _ClassVar[int]
    x: _containers.ScalarMap[str, float]
    value: float
    ci95: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, x: _Optional[_Mapping[str, float]] = ..., value: _Optional[float] = ..., ci95: _Optional[_Iterable[float]] = ...) -> None: ...

class HoldoutReport(_message.Message):
    __slots__ = ("k", "predictions", "observed", "rmse", "mean_abs_rel_error", "max_abs_rel_error", "covered")
    K_FIELD_NUMBER: _ClassVar[int]
    PREDICTIONS_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_FIELD_NUMBER: _ClassVar[int]
    RMSE_FIELD_NUMBER: _ClassVar[int]
    MEAN_ABS_REL_ERROR_FIELD_NUMBER: _ClassVar[int]
    MAX_ABS_REL_ERROR_FIELD_NUMBER: _ClassVar[int]
    COVERED_FIELD_NUMBER: _ClassVar[int]
    k: int
    predictions: _containers.RepeatedCompositeFieldContainer[Prediction]
    observed: _containers.RepeatedScalarFieldContainer[float]
    rmse: float
    mean_abs_rel_error: float
    max_abs_rel_error: float
    covered: float
    def __init__(self, k: _Optional[int] = ..., predictions: _Optional[_Iterable[_Union[Prediction, _Mapping]]] = ..., observed: _Optional[_Iterable[float]] = ..., rmse: _Optional[float] = ..., mean_abs_rel_error: _Optional[float] = ..., max_abs_rel_error: _Optional[float] = ..., covered: _Optional[float] = ...) -> None: ...

class ResidualSummary(_message.Message):
    __slots__ = ("rmse", "max_abs", "mean")
    RMSE_FIELD_NUMBER: _ClassVar[int]
    MAX_ABS_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    rmse: float
    max_abs: float
    mean: float
    def __init__(self, rmse: _Optional[float] = ..., max_abs: _Optional[float] = ..., mean: _Optional[float] = ...) -> None: ...

class FitResult(_message.Message):
    __slots__ = ("model", "params", "r2", "aic", "bic", "n", "converged", "interval_method", "objective", "message", "residuals", "engine_version", "predictions", "extra", "derived", "holdout", "bootstrap", "bootstrap_failed", "seed", "compute_optimal")
    class ParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: ParamEstimate
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[ParamEstimate, _Mapping]] = ...) -> None: ...
    class ExtraEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    class DerivedEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: ParamEstimate
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[ParamEstimate, _Mapping]] = ...) -> None: ...
    class ComputeOptimalEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: ParamEstimate
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[ParamEstimate, _Mapping]] = ...) -> None: ...
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    R2_FIELD_NUMBER: _ClassVar[int]
    AIC_FIELD_NUMBER: _ClassVar[int]
    BIC_FIELD_NUMBER: _ClassVar[int]
    N_FIELD_NUMBER: _ClassVar[int]
    CONVERGED_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_METHOD_FIELD_NUMBER: _ClassVar[int]
    OBJECTIVE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    RESIDUALS_FIELD_NUMBER: _ClassVar[int]
    ENGINE_VERSION_FIELD_NUMBER: _ClassVar[int]
    PREDICTIONS_FIELD_NUMBER: _ClassVar[int]
    EXTRA_FIELD_NUMBER: _ClassVar[int]
    DERIVED_FIELD_NUMBER: _ClassVar[int]
    HOLDOUT_FIELD_NUMBER: _ClassVar[int]
    BOOTSTRAP_FIELD_NUMBER: _ClassVar[int]
    BOOTSTRAP_FAILED_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    COMPUTE_OPTIMAL_FIELD_NUMBER: _ClassVar[int]
    model: str
    params: _containers.MessageMap[str, ParamEstimate]
    r2: float
    aic: float
    bic: float
    n: int
    converged: bool
    interval_method: str
    objective: float
    message: str
    residuals: ResidualSummary
    engine_version: str
    predictions: _containers.RepeatedCompositeFieldContainer[Prediction]
    extra: _containers.ScalarMap[str, float]
    derived: _containers.MessageMap[str, ParamEstimate]
    holdout: HoldoutReport
    bootstrap: int
    bootstrap_failed: int
    seed: int
    compute_optimal: _containers.MessageMap[str, ParamEstimate]
    def __init__(self, model: _Optional[str] = ..., params: _Optional[_Mapping[str, ParamEstimate]] = ..., r2: _Optional[float] = ..., aic: _Optional[float] = ..., bic: _Optional[float] = ..., n: _Optional[int] = ..., converged: _Optional[bool] = ..., interval_method: _Optional[str] = ..., objective: _Optional[float] = ..., message: _Optional[str] = ..., residuals: _Optional[_Union[ResidualSummary, _Mapping]] = ..., engine_version: _Optional[str] = ..., predictions: _Optional[_Iterable[_Union[Prediction, _Mapping]]] = ..., extra: _Optional[_Mapping[str, float]] = ..., derived: _Optional[_Mapping[str, ParamEstimate]] = ..., holdout: _Optional[_Union[HoldoutReport, _Mapping]] = ..., bootstrap: _Optional[int] = ..., bootstrap_failed: _Optional[int] = ..., seed: _Optional[int] = ..., compute_optimal: _Optional[_Mapping[str, ParamEstimate]] = ...) -> None: ...

class FitEmergenceRequest(_message.Message):
    __slots__ = ("scale", "score", "floor", "ceiling", "items", "predict_scale", "bootstrap", "seed", "broken_power_law", "scale_kind")
    SCALE_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    FLOOR_FIELD_NUMBER: _ClassVar[int]
    CEILING_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    PREDICT_SCALE_FIELD_NUMBER: _ClassVar[int]
    BOOTSTRAP_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    BROKEN_POWER_LAW_FIELD_NUMBER: _ClassVar[int]
    SCALE_KIND_FIELD_NUMBER: _ClassVar[int]
    scale: _containers.RepeatedScalarFieldContainer[float]
    score: _containers.RepeatedScalarFieldContainer[float]
    floor: float
    ceiling: float
    items: _containers.RepeatedScalarFieldContainer[int]
    predict_scale: _containers.RepeatedScalarFieldContainer[float]
    bootstrap: int
    seed: int
    broken_power_law: bool
    scale_kind: str
    def __init__(self, scale: _Optional[_Iterable[float]] = ..., score: _Optional[_Iterable[float]] = ..., floor: _Optional[float] = ..., ceiling: _Optional[float] = ..., items: _Optional[_Iterable[int]] = ..., predict_scale: _Optional[_Iterable[float]] = ..., bootstrap: _Optional[int] = ..., seed: _Optional[int] = ..., broken_power_law: _Optional[bool] = ..., scale_kind: _Optional[str] = ...) -> None: ...

class EmergenceResult(_message.Message):
    __slots__ = ("verdict", "reason", "models", "sigmoid", "best_smooth", "preferred", "delta_aic", "delta_bic", "threshold", "width_decades", "plateau_points", "predictions", "likelihood", "dispersion", "interval_method", "bootstrap", "bootstrap_failed", "seed", "engine_version", "threshold_side", "scale_kind", "sizes", "overall_improvement", "breakthroughness", "linearity", "statistics")
    class ModelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: FitResult
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[FitResult, _Mapping]] = ...) -> None: ...
    class StatisticsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    SIGMOID_FIELD_NUMBER: _ClassVar[int]
    BEST_SMOOTH_FIELD_NUMBER: _ClassVar[int]
    PREFERRED_FIELD_NUMBER: _ClassVar[int]
    DELTA_AIC_FIELD_NUMBER: _ClassVar[int]
    DELTA_BIC_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    WIDTH_DECADES_FIELD_NUMBER: _ClassVar[int]
    PLATEAU_POINTS_FIELD_NUMBER: _ClassVar[int]
    PREDICTIONS_FIELD_NUMBER: _ClassVar[int]
    LIKELIHOOD_FIELD_NUMBER: _ClassVar[int]
    DISPERSION_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_METHOD_FIELD_NUMBER: _ClassVar[int]
    BOOTSTRAP_FIELD_NUMBER: _ClassVar[int]
    BOOTSTRAP_FAILED_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    ENGINE_VERSION_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_SIDE_FIELD_NUMBER: _ClassVar[int]
    SCALE_KIND_FIELD_NUMBER: _ClassVar[int]
    SIZES_FIELD_NUMBER: _ClassVar[int]
    OVERALL_IMPROVEMENT_FIELD_NUMBER: _ClassVar[int]
    BREAKTHROUGHNESS_FIELD_NUMBER: _ClassVar[int]
    LINEARITY_FIELD_NUMBER: _ClassVar[int]
    STATISTICS_FIELD_NUMBER: _ClassVar[int]
    verdict: str
    reason: str
    models: _containers.MessageMap[str, FitResult]
    sigmoid: str
    best_smooth: str
    preferred: str
    delta_aic: float
    delta_bic: float
    threshold: ParamEstimate
    width_decades: ParamEstimate
    plateau_points: int
    predictions: _containers.RepeatedCompositeFieldContainer[Prediction]
    likelihood: str
    dispersion: float
    interval_method: str
    bootstrap: int
    bootstrap_failed: int
    seed: int
    engine_version: str
    threshold_side: str
    scale_kind: str
    sizes: int
    overall_improvement: float
    breakthroughness: float
    linearity: float
    statistics: _containers.ScalarMap[str, float]
    def __init__(self, verdict: _Optional[str] = ..., reason: _Optional[str] = ..., models: _Optional[_Mapping[str, FitResult]] = ..., sigmoid: _Optional[str] = ..., best_smooth: _Optional[str] = ..., preferred: _Optional[str] = ..., delta_aic: _Optional[float] = ..., delta_bic: _Optional[float] = ..., threshold: _Optional[_Union[ParamEstimate, _Mapping]] = ..., width_decades: _Optional[_Union[ParamEstimate, _Mapping]] = ..., plateau_points: _Optional[int] = ..., predictions: _Optional[_Iterable[_Union[Prediction, _Mapping]]] = ..., likelihood: _Optional[str] = ..., dispersion: _Optional[float] = ..., interval_method: _Optional[str] = ..., bootstrap: _Optional[int] = ..., bootstrap_failed: _Optional[int] = ..., seed: _Optional[int] = ..., engine_version: _Optional[str] = ..., threshold_side: _Optional[str] = ..., scale_kind: _Optional[str] = ..., sizes: _Optional[int] = ..., overall_improvement: _Optional[float] = ..., breakthroughness: _Optional[float] = ..., linearity: _Optional[float] = ..., statistics: _Optional[_Mapping[str, float]] = ...) -> None: ...

class EmergenceSeries(_message.Message):
    __slots__ = ("name", "scale", "score", "items", "floor", "ceiling", "scale_kind")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SCALE_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    FLOOR_FIELD_NUMBER: _ClassVar[int]
    CEILING_FIELD_NUMBER: _ClassVar[int]
    SCALE_KIND_FIELD_NUMBER: _ClassVar[int]
    name: str
    scale: _containers.RepeatedScalarFieldContainer[float]
    score: _containers.RepeatedScalarFieldContainer[float]
    items: _containers.RepeatedScalarFieldContainer[int]
    floor: float
    ceiling: float
    scale_kind: str
    def __init__(self, name: _Optional[str] = ..., scale: _Optional[_Iterable[float]] = ..., score: _Optional[_Iterable[float]] = ..., items: _Optional[_Iterable[int]] = ..., floor: _Optional[float] = ..., ceiling: _Optional[float] = ..., scale_kind: _Optional[str] = ...) -> None: ...

class FitEmergenceBatchRequest(_message.Message):
    __slots__ = ("series", "scale_kind", "bootstrap", "seed")
    SERIES_FIELD_NUMBER: _ClassVar[int]
    SCALE_KIND_FIELD_NUMBER: _ClassVar[int]
    BOOTSTRAP_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    series: _containers.RepeatedCompositeFieldContainer[EmergenceSeries]
    scale_kind: str
    bootstrap: int
    seed: int
    def __init__(self, series: _Optional[_Iterable[_Union[EmergenceSeries, _Mapping]]] = ..., scale_kind: _Optional[str] = ..., bootstrap: _Optional[int] = ..., seed: _Optional[int] = ...) -> None: ...

class SeriesError(_message.Message):
    __slots__ = ("field", "message")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    field: str
    message: str
    def __init__(self, field: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class EmergenceSeriesResult(_message.Message):
    __slots__ = ("name", "result", "errors")
    NAME_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    name: str
    result: EmergenceResult
    errors: _containers.RepeatedCompositeFieldContainer[SeriesError]
    def __init__(self, name: _Optional[str] = ..., result: _Optional[_Union[EmergenceResult, _Mapping]] = ..., errors: _Optional[_Iterable[_Union[SeriesError, _Mapping]]] = ...) -> None: ...

class EmergenceBatchResult(_message.Message):
    __slots__ = ("results", "engine_version")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    ENGINE_VERSION_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[EmergenceSeriesResult]
    engine_version: str
    def __init__(self, results: _Optional[_Iterable[_Union[EmergenceSeriesResult, _Mapping]]] = ..., engine_version: _Optional[str] = ...) -> None: ...

class AnalyzeMirageRequest(_message.Message):
    __slots__ = ("scale", "exact_match", "items", "k", "token_accuracy", "token_loss", "edit_distance", "resamples", "seed", "level", "partial_credit")
    SCALE_FIELD_NUMBER: _ClassVar[int]
    EXACT_MATCH_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    K_FIELD_NUMBER: _ClassVar[int]
    TOKEN_ACCURACY_FIELD_NUMBER: _ClassVar[int]
    TOKEN_LOSS_FIELD_NUMBER: _ClassVar[int]
    EDIT_DISTANCE_FIELD_NUMBER: _ClassVar[int]
    RESAMPLES_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    PARTIAL_CREDIT_FIELD_NUMBER: _ClassVar[int]
    scale: _containers.RepeatedScalarFieldContainer[float]
    exact_match: _containers.RepeatedScalarFieldContainer[float]
    items: _containers.RepeatedScalarFieldContainer[int]
    k: int
    token_accuracy: _containers.RepeatedScalarFieldContainer[float]
    token_loss: _containers.RepeatedScalarFieldContainer[float]
    edit_distance: _containers.RepeatedScalarFieldContainer[float]
    resamples: int
    seed: int
    level: float
    partial_credit: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, scale: _Optional[_Iterable[float]] = ..., exact_match: _Optional[_Iterable[float]] = ..., items: _Optional[_Iterable[int]] = ..., k: _Optional[int] = ..., token_accuracy: _Optional[_Iterable[float]] = ..., token_loss: _Optional[_Iterable[float]] = ..., edit_distance: _Optional[_Iterable[float]] = ..., resamples: _Optional[int] = ..., seed: _Optional[int] = ..., level: _Optional[float] = ..., partial_credit: _Optional[_Iterable[float]] = ...) -> None: ...

class MiragePoint(_message.Message):
    __slots__ = ("scale", "token_accuracy", "predicted", "predicted_ci95", "observed", "z")
    SCALE_FIELD_NUMBER: _ClassVar[int]
    TOKEN_ACCURACY_FIELD_NUMBER: _ClassVar[int]
    PREDICTED_FIELD_NUMBER: _ClassVar[int]
    PREDICTED_CI95_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_FIELD_NUMBER: _ClassVar[int]
    Z_FIELD_NUMBER: _ClassVar[int]
    scale: float
    token_accuracy: float
    predicted: float
    predicted_ci95: _containers.RepeatedScalarFieldContainer[float]
    observed: float
    z: float
    def __init__(self, scale: _Optional[float] = ..., token_accuracy: _Optional[float] = ..., predicted: _Optional[float] = ..., predicted_ci95: _Optional[_Iterable[float]] = ..., observed: _Optional[float] = ..., z: _Optional[float] = ...) -> None: ...

class MirageResult(_message.Message):
    __slots__ = ("explained", "reason", "k", "law", "points", "statistic", "dof", "p_value", "k_effective", "resamples", "seed", "level", "engine_version", "k_effective_ci95", "evidence", "evidence_conversion", "k_statistic", "k_p_value")
    EXPLAINED_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    K_FIELD_NUMBER: _ClassVar[int]
    LAW_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    STATISTIC_FIELD_NUMBER: _ClassVar[int]
    DOF_FIELD_NUMBER: _ClassVar[int]
    P_VALUE_FIELD_NUMBER: _ClassVar[int]
    K_EFFECTIVE_FIELD_NUMBER: _ClassVar[int]
    RESAMPLES_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    ENGINE_VERSION_FIELD_NUMBER: _ClassVar[int]
    K_EFFECTIVE_CI95_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_CONVERSION_FIELD_NUMBER: _ClassVar[int]
    K_STATISTIC_FIELD_NUMBER: _ClassVar[int]
    K_P_VALUE_FIELD_NUMBER: _ClassVar[int]
    explained: bool
    reason: str
    k: int
    law: FitResult
    points: _containers.RepeatedCompositeFieldContainer[MiragePoint]
    statistic: float
    dof: int
    p_value: float
    k_effective: float
    resamples: int
    seed: int
    level: float
    engine_version: str
    k_effective_ci95: _containers.RepeatedScalarFieldContainer[float]
    evidence: str
    evidence_conversion: str
    k_statistic: float
    k_p_value: float
    def __init__(self, explained: _Optional[bool] = ..., reason: _Optional[str] = ..., k: _Optional[int] = ..., law: _Optional[_Union[FitResult, _Mapping]] = ..., points: _Optional[_Iterable[_Union[MiragePoint, _Mapping]]] = ..., statistic: _Optional[float] = ..., dof: _Optional[int] = ..., p_value: _Optional[float] = ..., k_effective: _Optional[float] = ..., resamples: _Optional[int] = ..., seed: _Optional[int] = ..., level: _Optional[float] = ..., engine_version: _Optional[str] = ..., k_effective_ci95: _Optional[_Iterable[float]] = ..., evidence: _Optional[str] = ..., evidence_conversion: _Optional[str] = ..., k_statistic: _Optional[float] = ..., k_p_value: _Optional[float] = ...) -> None: ...
