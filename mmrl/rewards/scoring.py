"""Scoring rollout records: sample-level dispatch, shared components, weighted total.

For each record the verifier named by ``reward.verifier`` (else the run's default) scores the
response; ``format`` and ``style`` are scored on every record; ``rewards.total`` is
``sum(weights[c] * rewards[c])`` over the weights in force (the sample's ``reward.weights``, else
the run's, else the verifier's own, else accuracy 0.9 / format 0.1), and 0 when the format gate
is on and the format is not perfect, or when the style gate is on and the style check fails (mixed
languages, repeated blocks: GLM-4.1V gives such answers the minimum reward). A verifier that raises or runs past its deadline gives the
record an ``error`` and a total of 0; the record is still written and the run goes on.
"""
from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from mmrl.errors import ConfigError, MmrlError
from mmrl.registry import is_code_ref
from mmrl.rewards.base import VERIFIERS, check_result, verifier_default_weights
from mmrl.rewards.extract import FALLBACKS, strip_special_tokens
from mmrl.rewards.format import FORMAT_MODES, format_score
from mmrl.rewards.deadline import VerifierTimeout, soft_deadline
from mmrl.rewards.style import style_passes, style_score
from mmrl.settings import NON_NEGATIVE_COUNT, POSITIVE, setting

DEFAULT_WEIGHTS = {"accuracy": 0.9, "format": 0.1}
# who wins between a record's own reward spec and the run's settings (see resolve_spec)
REWARD_SPEC_MODES = ("sample", "config", "merge")
REQUIRED_COMPONENTS = ("accuracy", "format", "style")
MAX_ERROR_CHARS = 500


def _finite_weights(weights: Any, where: str) -> dict[str, float]:
    if not isinstance(weights, Mapping):
        raise ValueError(f"{where} must be a mapping of component to weight")
    out = {}
    for k, w in weights.items():
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w):
            raise ValueError(f"{where}.{k} must be a finite number, got {w!r}")
        out[str(k)] = float(w)
    return out


@dataclass
class RewardConfig:
    """Run-level reward settings; each sample's ``reward`` object overrides them.

    ``workers``: processes of the pool (None = every available core, 0 = score in this process
    with only the soft deadline). ``timeout``: seconds per verifier call. ``progress``: training
    progress in [0, 1] that schedules such as dynamic IoU read (``params["progress"]``).
    ``fallback``: the extraction fallback when no tag, box or "the answer is" is found.
    ``memory_limit_mb``: address space a worker may add beyond its size at start (None: no cap).
    ``start_method``: how workers start (None: forkserver, safe beside threads and CUDA).
    ``reward_spec``: who wins between a record's own ``reward`` spec and these settings:
    ``sample``, ``config`` or ``merge`` (see ``resolve_spec``).
    """

    verifier: str = setting("math", registry="mmrl.rewards.base:VERIFIERS", algo=True,
                            help="Verifier of samples without their own reward.verifier.")
    weights: dict[str, float] | None = setting(None, parse=lambda text: parse_weights(text), cli_type=str, algo=True,
                                               help="Reward weights, e.g. accuracy=1.0,format=0.5.")
    params: dict[str, Any] = setting(default_factory=dict, flag="--param", many=True,
                                     parse=lambda items: parse_params(items),
                                     help="Verifier parameter KEY=VALUE (JSON values); repeatable.")
    format_mode: str = setting("strict", choices=FORMAT_MODES, help="The format component's mode.")
    format_gate: bool = setting(False, help="Total reward 0 unless the format is perfect (GLM-4.1V).")
    style_gate: bool = setting(False, help="Total reward 0 when the style check fails: mixed languages or "
                                           "repeated blocks (GLM-4.1V).")
    timeout: float = setting(2.0, flag="--reward-timeout", bound=POSITIVE, help="Seconds per verifier call.")
    workers: int | None = setting(None, flag="--reward-workers", bound=NON_NEGATIVE_COUNT,
                                  help="Reward worker processes (default: one per core; 0 = in process).")
    fallback: str = setting("last_line", cli=False, help="Answer extraction when no tag, box or phrase is found.")
    progress: float = setting(0.0, cli=False, help="Training progress in [0, 1] (dynamic IoU reads it).")
    memory_limit_mb: int | None = setting(4096, cli=False, help="Address space a worker may add.")
    start_method: str | None = setting(None, cli=False, help="How workers start (default forkserver).")
    reward_spec: str = setting("sample", choices=REWARD_SPEC_MODES, algo=True,
                               help="Who wins over a sample's own reward spec: sample, config or merge.")

    def __post_init__(self) -> None:
        if self.format_mode not in FORMAT_MODES:
            raise ConfigError(f"format mode must be one of {', '.join(FORMAT_MODES)}, got {self.format_mode!r}")
        if self.reward_spec not in REWARD_SPEC_MODES:
            raise ConfigError(f"reward spec must be one of {', '.join(REWARD_SPEC_MODES)}, got {self.reward_spec!r}")
        if self.fallback not in FALLBACKS:
            raise ConfigError(f"fallback must be one of {', '.join(FALLBACKS)}, got {self.fallback!r}")
        if not (isinstance(self.timeout, (int, float)) and self.timeout > 0):
            raise ConfigError(f"timeout must be a positive number of seconds, got {self.timeout!r}")
        if self.workers is not None and self.workers < 0:
            raise ConfigError(f"workers must be >= 0, got {self.workers}")
        if not 0.0 <= float(self.progress) <= 1.0:
            raise ConfigError(f"progress must be in [0, 1], got {self.progress}")
        if not isinstance(self.params, Mapping):
            raise ConfigError("params must be a mapping")
        for name in (self.verifier, self.params.get("answer_verifier")):
            allow_verifier(name)
        from mmrl.rewards.params import check_params, only_builtin_verifiers

        check_params(self.params, "--param", open_ended=not only_builtin_verifiers())
        if self.weights is not None:
            try:
                self.weights = _finite_weights(self.weights, "weights")
            except ValueError as e:
                raise ConfigError(str(e)) from None

    @property
    def pool_size(self) -> int:
        if self.workers is not None:
            return self.workers
        try:
            return len(os.sched_getaffinity(0))
        except AttributeError:  # pragma: no cover - not Linux
            return os.cpu_count() or 1

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> RewardConfig:
        """Build from a recipe section (keys as the CLI flags, dashes or underscores).

        ``weights`` may be a mapping or ``"accuracy=0.9,format=0.1"``; ``params`` a mapping, or
        ``param`` a list of ``key=value`` strings.
        """
        known = {f for f in cls.__dataclass_fields__}
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            name = str(key).replace("-", "_")
            if name == "weights" and isinstance(value, str):
                value = parse_weights(value)
            elif name == "param":
                name, value = "params", {**kwargs.get("params", {}), **parse_params(value)}
            elif name == "params":
                if not isinstance(value, Mapping):
                    raise ConfigError("reward params must be a mapping")
                value = {**kwargs.get("params", {}), **value}
            if name not in known:
                raise ConfigError(f"unknown reward setting {key!r}; known: {', '.join(sorted(known))}")
            kwargs[name] = value
        return cls(**kwargs)


def allow_verifier(name: Any) -> None:
    """Load the user code a trusted setting names (a flag, a recipe, a library call): after this,
    data that names the same ``file.py:function`` may use it too; data alone never loads code."""
    if not isinstance(name, str) or not is_code_ref(name):
        return
    try:
        VERIFIERS.load(name)
    except MmrlError:
        raise
    except Exception as e:  # noqa: BLE001 - the user's module failed to import
        raise ConfigError(f"cannot load verifier {name}: {type(e).__name__}: {e}") from None


def parse_weights(text: str) -> dict[str, float]:
    """``"accuracy=0.9,format=0.1"`` as a mapping."""
    out: dict[str, float] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        try:
            if not sep or not key.strip():
                raise ValueError
            out[key.strip()] = float(value)
        except ValueError:
            raise ConfigError(f"weights must be COMPONENT=NUMBER,...; got {part.strip()!r}") from None
    if not out:
        raise ConfigError("weights are empty")
    return _finite_weights_config(out)


def _finite_weights_config(weights: dict[str, float]) -> dict[str, float]:
    try:
        return _finite_weights(weights, "weights")
    except ValueError as e:
        raise ConfigError(str(e)) from None


def parse_param_value(text: str) -> Any:
    """A ``--param`` value: JSON when it parses (numbers, booleans, lists), else the string; JSON
    nested past ``MAX_DEPTH`` is refused (not taken as a string, not a RecursionError)."""
    from mmrl.io.strictjson import JsonValueError, loads

    try:
        return loads(text, check=False)
    except JsonValueError as e:
        raise ConfigError(f"param value {text[:30]}...: {e.reason}") from None
    except ValueError:
        return text


def parse_params(items: Iterable[str] | str | Mapping[str, Any]) -> dict[str, Any]:
    """``["iou_threshold=0.5", "integer=true"]`` as a mapping (a mapping is taken as it is)."""
    if isinstance(items, Mapping):
        return {str(k): v for k, v in items.items()}
    if isinstance(items, str):
        items = [items]
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = str(item).partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"params are KEY=VALUE, got {item!r}")
        out[key.strip()] = parse_param_value(value.strip())
    return out


@dataclass(frozen=True)
class RewardSpec:
    """What scores one record: the verifier's name, the weights and the merged params."""

    verifier: str
    weights: dict[str, float]
    params: dict[str, Any]


def resolve_spec(record: Mapping[str, Any], config: RewardConfig) -> RewardSpec:
    """A record's reward spec combined with the run's settings (ValueError when malformed).

    ``config.reward_spec`` says who wins: ``sample`` (default; V-Triune's per-sample specs): the
    record's verifier, weights and params, the run's only where the record has none; ``config``:
    the run's verifier, weights and params, the record's only where the run has none; ``merge``:
    the record's verifier, weights and params merged key by key with the run's winning.
    """
    spec = record.get("reward") or {}
    if not isinstance(spec, Mapping):
        raise ValueError("reward must be an object {verifier, weights, params}")
    mode = config.reward_spec
    own_name = spec.get("verifier")
    name = config.verifier if mode == "config" or own_name is None else own_name
    if not isinstance(name, str) or not name:
        raise ValueError("reward.verifier must be a verifier name")
    own_weights = _finite_weights(spec["weights"], "reward.weights") if spec.get("weights") is not None else None
    run_weights = dict(config.weights) if config.weights is not None else None
    if mode == "merge" and (own_weights or run_weights):
        weights = {**(own_weights or {}), **(run_weights or {})}
    else:
        first, second = (run_weights, own_weights) if mode == "config" else (own_weights, run_weights)
        weights = first if first is not None else second
    if weights is None:
        weights = verifier_default_weights(name) or dict(DEFAULT_WEIGHTS)
    sample_params = spec.get("params") or {}
    if not isinstance(sample_params, Mapping):
        raise ValueError("reward.params must be an object")
    base = {"fallback": config.fallback, "progress": float(config.progress)}
    if mode == "sample":
        params = {**base, **config.params, **sample_params}
    else:
        params = {**base, **sample_params, **config.params}
    return RewardSpec(name, weights, params)


def spec_overrides(records: Iterable[Mapping[str, Any]], config: RewardConfig,
                   given: Iterable[str]) -> dict[str, int]:
    """How many records' own reward specs override each run setting the user gave (``given``:
    ``verifier``, ``weights`` and ``param:KEY`` names); only in ``sample`` mode, where they win."""
    counts: dict[str, int] = {}
    if config.reward_spec != "sample":
        return counts
    given = set(given)
    for record in records:
        spec = record.get("reward")
        if not isinstance(spec, Mapping):
            continue
        hit = []
        if "verifier" in given and spec.get("verifier") not in (None, config.verifier):
            hit.append("--verifier")
        if "weights" in given and spec.get("weights") is not None and spec.get("weights") != config.weights:
            hit.append("--weights")
        own = spec.get("params") if isinstance(spec.get("params"), Mapping) else {}
        hit += [f"--param {k}" for k in own if f"param:{k}" in given and own[k] != config.params.get(k)]
        for name in hit:
            counts[name] = counts.get(name, 0) + 1
    return counts


def override_notice(counts: Mapping[str, int], total: int) -> str | None:
    """One line saying which of the user's settings the samples' own specs overrode, and on how many."""
    if not counts:
        return None
    parts = ", ".join(f"{name} on {n} of {total} records" for name, n in counts.items())
    return (f"the samples' own reward specs override {parts}; pass --reward-spec config (your settings win) "
            "or --reward-spec merge (key by key) to apply yours")


def validate_record(record: Mapping[str, Any], config: RewardConfig) -> tuple[str, str] | None:
    """The first reason a record cannot be scored at all, as (field, reason); None when fine.

    Checked for every record before any scoring starts, so that a typo in a verifier name
    fails the run at once rather than turning every record into an error.
    """
    if "response" not in record:
        return "response", "required field is missing (reward scores rollout records)"
    if not isinstance(record["response"], str):
        return "response", f"must be a string, got {type(record['response']).__name__}"
    try:
        spec = resolve_spec(record, config)
    except ValueError as e:
        return "reward", str(e)
    try:
        VERIFIERS.get(spec.verifier)
    except ConfigError as e:
        return "reward.verifier", str(e)
    inner = spec.params.get("answer_verifier")
    if isinstance(inner, str):
        try:
            VERIFIERS.get(inner)
        except ConfigError as e:
            return "reward.params.answer_verifier", str(e)
    return None


def _error_text(exc: BaseException, verifier: str, timeout: float) -> str:
    if isinstance(exc, VerifierTimeout):
        return f"timeout: verifier {verifier!r} took more than {timeout:g}s"
    text = f"verifier {verifier!r} failed: {type(exc).__name__}: {exc}"
    return text[:MAX_ERROR_CHARS]


def _shared_components(response: str, params: Mapping[str, Any], config: RewardConfig) -> dict[str, float]:
    mode = params.get("format_mode", config.format_mode)
    return {
        "format": format_score(response, mode, require_box=bool(params.get("require_box", False))),
        "style": style_score(response, params),
    }


def gate_failed(rewards: Mapping[str, float], params: Mapping[str, Any], config: RewardConfig) -> str | None:
    """The gate that sets the total to 0, or None: ``format`` (the format gate on an imperfect
    format) or ``style`` (the style gate on a failed style check). A sample's ``format_gate`` and
    ``style_gate`` params beat the run's settings."""
    if params.get("format_gate", config.format_gate) and rewards["format"] < 1.0:
        return "format"
    if params.get("style_gate", config.style_gate) and not style_passes(rewards["style"]):
        return "style"
    return None


def counted_accuracy(record: Mapping[str, Any]) -> float:
    """The accuracy a scored record counts for as a solve: its ``rewards.accuracy``, and 0 when a gate
    zeroed its total (``gate``): a right answer in a broken format is not a solved prompt (GLM-4.1V)."""
    if record.get("gate"):
        return 0.0
    return float(record["rewards"].get("accuracy", 0.0))


def failed_updates(record: Mapping[str, Any], config: RewardConfig, error: str) -> dict[str, Any]:
    """The fields of a record whose scoring failed: format/style when they can still be scored."""
    rewards = {"accuracy": 0.0, "format": 0.0, "style": 0.0}
    try:
        response = strip_special_tokens(str(record.get("response", "")))
        rewards.update(_shared_components(response, resolve_spec(record, config).params, config))
    except Exception:  # noqa: BLE001 - the record already failed; keep the zeros
        pass
    rewards["total"] = 0.0
    return {"extracted": None, "rewards": rewards, "error": error[:MAX_ERROR_CHARS]}


def score_updates(record: Mapping[str, Any], config: RewardConfig) -> dict[str, Any]:
    """The fields scoring adds to a record: ``extracted``, ``rewards`` and maybe ``error``."""
    name = "?"
    try:
        spec = resolve_spec(record, config)
        name = spec.verifier
        response = record.get("response")
        if not isinstance(response, str):
            raise ValueError("the record has no response string")
        response = strip_special_tokens(response)
        verifier = VERIFIERS.get(name)
        with soft_deadline(config.timeout):
            result = check_result(name, verifier(response, record, spec.params))
            shared = _shared_components(response, spec.params, config)
    except Exception as e:  # noqa: BLE001 - any verifier failure (VerifierTimeout included) is data
        return failed_updates(record, config, _error_text(e, name, config.timeout))
    rewards = {"accuracy": float(result.accuracy), **shared, **{k: float(v) for k, v in result.components.items()}}
    missing = [c for c in spec.weights if c not in rewards]
    if missing:
        known = ", ".join(sorted(rewards))
        return failed_updates(record, config, f"weights name {', '.join(missing)}, which verifier {name!r} "
                                              f"does not report (it reports {known})")
    total = sum(w * rewards[c] for c, w in spec.weights.items())
    if not math.isfinite(total):  # finite parts, weighted, can still overflow
        return failed_updates(record, config, f"the weighted total of verifier {name!r} is not finite "
                                              f"({' + '.join(f'{w:g} * {c}={rewards[c]:g}' for c, w in spec.weights.items())})")
    gate = gate_failed(rewards, spec.params, config)
    rewards["total"] = 0.0 if gate else total
    updates = {"extracted": result.extracted, "rewards": rewards}
    if gate:
        updates["gate"] = gate
    return updates


def merge(record: Mapping[str, Any], updates: Mapping[str, Any]) -> dict[str, Any]:
    """A new record: every input field in order, then the scoring fields (a stale ``error`` or ``gate`` dropped)."""
    out = dict(record)
    for stale in ("error", "gate"):
        if stale not in updates:
            out.pop(stale, None)
    out.update(updates)
    return out


def score_record(record: Mapping[str, Any], config: RewardConfig | None = None) -> dict[str, Any]:
    """Score one record in this process (soft deadline only); the input is not modified."""
    return merge(record, score_updates(record, config or RewardConfig()))


def score_records(records: Iterable[Mapping[str, Any]], config: RewardConfig | None = None) -> Iterator[dict[str, Any]]:
    """Score records through a worker pool (``config.workers``), yielding them in input order."""
    from mmrl.rewards.pool import RewardScorer

    with RewardScorer(config or RewardConfig()) as scorer:
        yield from scorer.iter_score(records)


def with_progress(config: RewardConfig, progress: float | None) -> RewardConfig:
    return config if progress is None else replace(config, progress=progress)
