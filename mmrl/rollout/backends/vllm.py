"""In-process vLLM (``pip install mmrl[vllm]``): an engine on the GPUs, new weights pushed in memory.

vLLM is imported only when this backend is created. Everything that does not need vLLM itself
(engine arguments, SamplingParams, engine requests, weight names and chunks, reading outputs) is
a plain function here so that it is tested without a GPU. The chat template and the image
resizing are mmrl's (the model's processor, loaded locally), so the hf and vllm backends see the
same prompt and the same images; vLLM's own processor then finds the images already at their
final size. Prompts go to the engine as token ids, so a forced answer continues from exactly the
ids the completion records.

Written against vLLM's source, 0.11 and the newest release (docs/rollout.md names the files):
the engine core runs in another process by default (``VLLM_ENABLE_V1_MULTIPROCESSING=1``), so the
model is reached only through ``collective_rpc`` and a worker extension (``WeightLoader``); a
colocated engine (``colocate=True``) runs in this process with ``external_launcher``, as TRL and
verl build theirs, takes the trainer's tensors without a copy and sleeps between uses.
"""
from __future__ import annotations

import copy
import hashlib
import logging
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from mmrl.errors import ConfigError
from mmrl.model.loading import LoadedModel, ModelSpec
from mmrl.rollout.cleaning import ResponseCleaner, make_cleaner
from mmrl.rollout.draws import cut_at_stop
from mmrl.rollout.forced import Continuation, generate_with_forcing
from mmrl.rollout.prompts import templated_text
from mmrl.rollout.token_sampling import request_seed
from mmrl.rollout.types import Completion, Prompt, SamplingParams

log = logging.getLogger("mmrl")

# transformers >= 4.52 nests the language model and the vision tower under ``model.``; vLLM's
# loaders read the classic checkpoint layout, which every vLLM version understands.
NAME_PREFIXES: tuple[tuple[str, str], ...] = (
    ("base_model.model.", ""),  # peft wrapper
    ("model.language_model.", "model."),
    ("model.visual.", "visual."),
)
STANDALONE_MEMORY_SHARE = 0.85  # the engine has the GPU to itself (the CLI's --gpu-memory-utilization)
COLOCATED_MEMORY_SHARE = 0.3  # beside a trainer (TRL's colocate default); vLLM needs it free at start
SLEEP_LEVEL = 1  # asleep: weights kept in CPU memory, KV cache dropped (level 2 would drop the weights)
SLEEP_TAGS = ("weights", "kv_cache")  # vLLM's sleep-mode memory tags (LLM.wake_up)
WEIGHT_CHUNK_BYTES = 1 << 30  # tensors per collective_rpc: bounds the CPU copy sent to another process
LOAD_METHOD = "mmrl_load_weights"


class WeightLoader:
    """vLLM ``worker_extension_cls``: mixed into every worker class, in whichever process it runs,
    so that ``collective_rpc(LOAD_METHOD, args=(weights,))`` loads them into that worker's model."""

    def mmrl_load_weights(self, weights: list[tuple[str, Any]]) -> int:
        self.model_runner.model.load_weights(weights=weights)  # type: ignore[attr-defined]
        return len(weights)


WORKER_EXTENSION = f"{WeightLoader.__module__}.{WeightLoader.__qualname__}"


def sampling_kwargs(params: SamplingParams, max_tokens: int, seed: int | None) -> dict[str, Any]:
    """Keyword arguments of ``vllm.SamplingParams`` for one request (its ``n`` draws; vLLM seeds
    draw i with ``seed + i``). vLLM refuses ``n > 1`` when greedy: ``generate`` never asks it."""
    kw: dict[str, Any] = {
        "n": params.n,
        "temperature": params.temperature,
        "top_p": params.top_p,
        "top_k": params.top_k if params.top_k > 0 else -1,  # -1 disables top-k in every vLLM version
        "max_tokens": max_tokens,
        "skip_special_tokens": True,
    }
    if params.stop:
        kw["stop"] = list(params.stop)
    if seed is not None:
        kw["seed"] = seed
    if params.logprobs:
        kw["logprobs"] = 0  # the sampled token's log-prob only
    return kw


def continuation_params(params: SamplingParams, cont: Continuation) -> SamplingParams:
    """One draw's second phase: no think budget, and no stop strings once an answer is forced
    (the hf backend ignores them after forcing too)."""
    return replace(params, n=1, think_budget=None, stop=[] if cont.forced else list(params.stop))


def image_uuid(image: Any, weights_version: int) -> str:
    """The id vLLM caches an image's encoder output under (``multi_modal_uuids``): the image's
    content and the weights version. vLLM reuses encoder outputs across requests by this id (0.11
    has no call that drops them), so after a weight push every image is encoded again."""
    digest = hashlib.blake2b(image.tobytes(), digest_size=16)
    digest.update(f"{image.mode}{image.size}".encode())
    return f"{digest.hexdigest()}-w{weights_version}"


def engine_request(prompt_ids: Sequence[int], images: Sequence[Any], image_ids: Sequence[str]) -> dict[str, Any]:
    """A vLLM token prompt: ids with one image placeholder per image (vLLM expands them), the
    already resized images and their cache ids."""
    req: dict[str, Any] = {"prompt_token_ids": list(prompt_ids)}
    if images:
        req["multi_modal_data"] = {"image": list(images) if len(images) > 1 else images[0]}
        req["multi_modal_uuids"] = {"image": list(image_ids)}
    return req


def vllm_weight_name(name: str) -> str:
    """The checkpoint-layout name vLLM loads a trainer parameter under."""
    if "lora_" in name:
        raise ConfigError(f"{name}: merge LoRA adapters into the base weights before pushing them to vLLM")
    for old, new in NAME_PREFIXES:
        if name.startswith(old):
            name = new + name[len(old):]
    return name.replace(".base_layer.", ".")


def vllm_weights(weights: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> Iterator[tuple[str, Any]]:
    """(name, tensor) pairs renamed for vLLM's ``load_weights``."""
    items = weights.items() if isinstance(weights, Mapping) else weights
    for name, tensor in items:
        yield vllm_weight_name(name), tensor


def weight_chunks(items: Iterable[tuple[str, Any]], max_bytes: int, to_cpu: bool) -> Iterator[list[tuple[str, Any]]]:
    """(name, tensor) lists of about ``max_bytes`` each; CPU copies when the engine is in another
    process (vLLM serialises only CPU tensors), the tensors themselves when it shares this one."""
    chunk: list[tuple[str, Any]] = []
    size = 0
    for name, tensor in items:
        tensor = tensor.detach().to("cpu") if to_cpu else tensor.detach()
        chunk.append((name, tensor))
        size += tensor.numel() * tensor.element_size()
        if size >= max_bytes:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def finish_reason(reason: str | None) -> str:
    """mmrl's finish reason for vLLM's. vLLM reports ``stop``, ``length``, ``abort`` and later also
    ``error`` and ``repetition`` (``FINISH_REASON_STRINGS``); only the first two end a response."""
    if reason in ("stop", "length"):
        return reason
    raise RuntimeError(f"vLLM ended a draw with finish_reason {reason!r}: the engine aborted or failed it, "
                       "so it is not a response")


def completion_from_output(out: Any, cleaner: ResponseCleaner, stop: list[str]) -> Completion:
    """A Completion from a vLLM ``CompletionOutput``."""
    text = out.text or ""
    if stop:
        text = cut_at_stop(text, stop)
    ids = list(out.token_ids or [])
    logprobs = None
    if getattr(out, "logprobs", None):
        logprobs = [float(step[tok].logprob) for tok, step in zip(ids, out.logprobs)]
    return Completion(text=cleaner(text), token_ids=ids, finish_reason=finish_reason(out.finish_reason),
                      num_tokens=len(ids), logprobs=logprobs)


def replicate(groups: list[list[Completion]], n: int) -> list[list[Completion]]:
    """Each prompt's single draw as ``n`` independent copies (greedy: every draw is the same)."""
    return [[copy.deepcopy(group[0]) for _ in range(n)] for group in groups]


def engine_context_length(max_model_len: int | None, max_prompt_length: int | None, max_new_tokens: int | None,
                          colocate: bool) -> int | None:
    """Tokens the engine's KV cache is sized for: ``max_model_len``, else the prompt limit plus the
    response budget. None leaves vLLM's default, the model's whole context (Qwen2.5-VL: 128k)."""
    if max_model_len is None and max_prompt_length and max_new_tokens:
        max_model_len = max_prompt_length + max_new_tokens
    if max_model_len is None and colocate:
        raise ConfigError("a colocated vLLM engine needs max_prompt_length and max_new_tokens (or max_model_len): "
                          "the model's whole context does not fit beside a trainer")
    return max_model_len


def engine_kwargs(spec: ModelSpec, tensor_parallel_size: int = 1, gpu_memory_utilization: float | None = None,
                  max_model_len: int | None = None, dtype: str | None = None, enable_prefix_caching: bool = True,
                  colocate: bool = False, **extra: Any) -> dict[str, Any]:
    """Keyword arguments of ``vllm.LLM``; ``extra`` (any engine argument) is applied last."""
    if gpu_memory_utilization is None:
        gpu_memory_utilization = COLOCATED_MEMORY_SHARE if colocate else STANDALONE_MEMORY_SHARE
    mm_kwargs = {k: v for k, v in (("min_pixels", spec.min_pixels), ("max_pixels", spec.max_pixels)) if v}
    kw: dict[str, Any] = {
        "model": spec.name_or_path,
        "revision": spec.revision,
        "tokenizer_revision": spec.revision,
        "dtype": dtype or spec.dtype,
        "trust_remote_code": spec.trust_remote_code,
        "tensor_parallel_size": tensor_parallel_size,
        "gpu_memory_utilization": gpu_memory_utilization,
        "max_model_len": max_model_len,
        "enable_prefix_caching": enable_prefix_caching,
        "mm_processor_kwargs": mm_kwargs or None,
        "logprobs_mode": "processed_logprobs",  # after temperature (and top-k/top-p), as the trainer's
        "worker_extension_cls": WORKER_EXTENSION,
    }
    if colocate:
        kw.update(distributed_executor_backend="external_launcher", enable_sleep_mode=True)
    return {**kw, **extra}


def set_launcher_env() -> None:
    """The torch.distributed variables vLLM's ``external_launcher`` reads: this process's rank
    when torch.distributed is set up (a trainer's), else rank 0 of 1 on a free local port."""
    import socket

    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        os.environ.setdefault("RANK", str(dist.get_rank()))
        os.environ.setdefault("WORLD_SIZE", str(dist.get_world_size()))
    for var, value in (("RANK", "0"), ("LOCAL_RANK", "0"), ("WORLD_SIZE", "1"), ("MASTER_ADDR", "127.0.0.1")):
        os.environ.setdefault(var, value)
    if "MASTER_PORT" not in os.environ:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            os.environ["MASTER_PORT"] = str(s.getsockname()[1])


def shares_memory_with_engine(llm: Any) -> bool:
    """True when vLLM's worker lives in this process: the engine has a ``model_executor`` only with
    multiprocessing off, and that executor a ``driver_worker`` only with one worker per process."""
    executor = getattr(llm.llm_engine, "model_executor", None)
    return getattr(executor, "driver_worker", None) is not None


class VLLMBackend:
    """Generation with an in-process ``vllm.LLM``.

    ``max_prompt_length`` and ``max_new_tokens`` size the engine (``max_model_len`` overrides);
    ``colocate=True`` builds it to share GPUs with a trainer in this process (external launcher,
    sleep mode, ``COLOCATED_MEMORY_SHARE``): asleep except during ``generate``, with its weights
    mapped back by ``update_weights``. Other keyword arguments go to ``vllm.LLM``.
    """

    name = "vllm"

    def __init__(self, model: LoadedModel | ModelSpec | str, tensor_parallel_size: int = 1,
                 gpu_memory_utilization: float | None = None, max_model_len: int | None = None,
                 max_prompt_length: int | None = None, max_new_tokens: int | None = None, dtype: str | None = None,
                 enable_prefix_caching: bool = True, colocate: bool = False, **engine_options: Any):
        try:
            import vllm
        except ImportError:
            raise ConfigError("the vllm backend needs vLLM: pip install 'mmrl[vllm]' (a CUDA machine)") from None
        from mmrl.model.processor import load_processor

        spec = model.spec if isinstance(model, LoadedModel) else (model if isinstance(model, ModelSpec) else ModelSpec(model))
        self.spec = spec
        self.processor = model.processor if isinstance(model, LoadedModel) else load_processor(
            spec.name_or_path, spec.min_pixels, spec.max_pixels, **spec.hub())
        size = engine_context_length(max_model_len, max_prompt_length, max_new_tokens, colocate)
        if size is None:
            log.info("vllm: engine sized for the model's whole context; pass max_prompt_length and max_new_tokens "
                     "(or max_model_len) to size its KV cache")
        kwargs = engine_kwargs(spec, tensor_parallel_size, gpu_memory_utilization, size, dtype, enable_prefix_caching,
                               colocate, **engine_options)
        if kwargs.get("distributed_executor_backend") == "external_launcher":
            set_launcher_env()
        self._vllm = vllm
        self.llm = vllm.LLM(**kwargs)
        self.sleeps = bool(kwargs.get("enable_sleep_mode"))
        self.asleep: set[str] = set()  # sleep-mode memory tags released now: "weights", "kv_cache"
        self.weights_version = 0
        self.cleaner = make_cleaner(self.processor)
        self.tokenizer = getattr(self.processor, "tokenizer", self.processor)
        self.context_length = self.llm.llm_engine.model_config.max_model_len
        self._sleep()  # until first used: the trainer has the memory

    def _sleep(self) -> None:
        if self.sleeps:
            self.llm.sleep(level=SLEEP_LEVEL)
            self.asleep = set(SLEEP_TAGS)

    def _wake(self, tags: Sequence[str]) -> None:
        """Map the memory of ``tags`` back (a weight push needs the weights, not the KV cache)."""
        todo = [t for t in tags if t in self.asleep]
        if todo:
            self.llm.wake_up(tags=todo)
            self.asleep -= set(todo)

    def generate(self, prompts: list[Prompt], params: SamplingParams) -> list[list[Completion]]:
        if params.greedy and params.n > 1:
            return replicate(self.generate(prompts, replace(params, n=1)), params.n)
        forced_ids = self.tokenizer.encode(params.forced_text, add_special_tokens=False) if params.forcing else ()
        self._wake(SLEEP_TAGS)
        try:
            return generate_with_forcing(prompts, params, self._draw, self._continue, forced_ids)
        finally:
            self._sleep()

    def _request(self, prompt: Prompt, extra_ids: Sequence[int] = ()) -> dict[str, Any]:
        ids = self.tokenizer.encode(templated_text(prompt, self.processor))
        image_ids = [image_uuid(image, self.weights_version) for image in prompt.images]
        return engine_request([*ids, *extra_ids], prompt.images, image_ids)

    def _run(self, requests: list[dict[str, Any]], kwargs: list[dict[str, Any]]) -> list[Any]:
        sps = [self._vllm.SamplingParams(**kw) for kw in kwargs]
        return self.llm.generate(requests, sps, use_tqdm=False)

    def _draw(self, prompts: list[Prompt], params: SamplingParams) -> list[list[Completion]]:
        outs = self._run([self._request(p) for p in prompts],
                         [sampling_kwargs(params, params.max_new_tokens, request_seed(params.seed, p.id, 0)) for p in prompts])
        return [[completion_from_output(o, self.cleaner, params.stop) for o in ro.outputs] for ro in outs]

    def _continue(self, prompts: list[Prompt], plan: list[Continuation], params: SamplingParams) -> list[Completion]:
        steps = [continuation_params(params, c) for c in plan]
        requests = [self._request(prompts[c.prompt_index], c.prefix_ids) for c in plan]
        seeds = [request_seed(params.seed, prompts[c.prompt_index].id, c.draw + params.n) for c in plan]
        kwargs = [sampling_kwargs(step, c.budget, seed) for c, step, seed in zip(plan, steps, seeds)]
        return [completion_from_output(ro.outputs[0], self.cleaner, step.stop)
                for ro, step in zip(self._run(requests, kwargs), steps)]

    def update_weights(self, weights: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> None:
        """Load new weights into every worker's model in memory (names as the trainer's, renamed for
        vLLM; LoRA merged first, sharded parameters gathered first) and drop what was computed with
        the old ones: the prefix cache, and image features (their cache ids change)."""
        to_cpu = not shares_memory_with_engine(self.llm)
        self._wake(("weights",))  # they stay mapped until the next generate puts the engine to sleep
        for chunk in weight_chunks(vllm_weights(weights), WEIGHT_CHUNK_BYTES, to_cpu):
            self.llm.collective_rpc(LOAD_METHOD, args=(chunk,))
        self.weights_version += 1
        if self.llm.reset_prefix_cache() is False:
            raise RuntimeError("vLLM kept its prefix cache (requests still running) after new weights")

    def close(self) -> None:
        """Shut the engine down (its processes and GPU memory); a second call does nothing."""
        if self.llm is None:
            return
        llm, self.llm = self.llm, None
        llm.llm_engine.engine_core.shutdown()
        del llm
        import gc

        import torch

        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
