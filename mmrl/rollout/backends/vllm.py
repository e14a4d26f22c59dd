"""In-process vLLM (``pip install mmrl[vllm]``): an engine on the GPUs, new weights pushed in memory.

vLLM is imported only when this backend is created. Everything that does not need vLLM itself
(mapping SamplingParams, building engine requests, naming weights for the engine, reading its
outputs) is a plain function here so that it is tested without a GPU. The chat template and
the image resizing are mmrl's (the model's processor, loaded locally), so the hf and vllm backends
see the same prompt text and the same images; vLLM's own processor then finds the images
already at their final size.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from typing import Any

from mmrl.errors import ConfigError
from mmrl.model.loading import LoadedModel, ModelSpec
from mmrl.rollout.cleaning import ResponseCleaner, make_cleaner
from mmrl.rollout.draws import cut_at_stop
from mmrl.rollout.forced import Continuation, generate_with_forcing
from mmrl.rollout.prompts import templated_text
from mmrl.rollout.sampling import request_seed
from mmrl.rollout.types import Completion, Prompt, SamplingParams

# transformers >= 4.52 nests the language model and the vision tower under ``model.``; vLLM's
# loaders read the classic checkpoint layout, which every vLLM version understands.
NAME_PREFIXES: tuple[tuple[str, str], ...] = (
    ("base_model.model.", ""),  # peft wrapper
    ("model.language_model.", "model."),
    ("model.visual.", "visual."),
)


def sampling_kwargs(params: SamplingParams, max_tokens: int, seed: int | None) -> dict[str, Any]:
    """Keyword arguments of ``vllm.SamplingParams`` for one request (its ``n`` draws)."""
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


def engine_request(prompt: Prompt, text: str) -> dict[str, Any]:
    """A vLLM prompt: templated text plus the already resized images."""
    req: dict[str, Any] = {"prompt": text}
    if prompt.images:
        req["multi_modal_data"] = {"image": list(prompt.images) if len(prompt.images) > 1 else prompt.images[0]}
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


def completion_from_output(out: Any, cleaner: ResponseCleaner, stop: list[str]) -> Completion:
    """A Completion from a vLLM ``CompletionOutput``."""
    text = out.text or ""
    if stop:
        text = cut_at_stop(text, stop)
    ids = list(out.token_ids or [])
    logprobs = None
    if getattr(out, "logprobs", None):
        logprobs = [float(step[tok].logprob) for tok, step in zip(ids, out.logprobs)]
    finish = "length" if out.finish_reason == "length" else "stop"
    return Completion(text=cleaner(text), token_ids=ids, finish_reason=finish, num_tokens=len(ids), logprobs=logprobs)


def engine_model(llm: Any) -> Any:
    """The torch model inside an in-process vLLM engine (V0 and single-process V1 layouts)."""
    executor = llm.llm_engine.model_executor
    worker = executor.driver_worker
    for path in (("worker", "model_runner", "model"), ("model_runner", "model")):
        obj = worker
        try:
            for attr in path:
                obj = getattr(obj, attr)
            return obj
        except AttributeError:
            continue
    raise ConfigError("cannot reach the model inside this vLLM engine; set VLLM_ENABLE_V1_MULTIPROCESSING=0")


class VLLMBackend:
    """Generation with an in-process ``vllm.LLM``."""

    name = "vllm"

    def __init__(self, model: LoadedModel | ModelSpec | str, tensor_parallel_size: int = 1,
                 gpu_memory_utilization: float = 0.6, max_model_len: int | None = None, dtype: str = "auto",
                 enable_prefix_caching: bool = True, **engine_kwargs: Any):
        try:
            import vllm
        except ImportError:
            raise ConfigError("the vllm backend needs vLLM: pip install 'mmrl[vllm]' (a CUDA machine)") from None
        from mmrl.model.processor import load_processor

        spec = model.spec if isinstance(model, LoadedModel) else (model if isinstance(model, ModelSpec) else ModelSpec(model))
        self.spec = spec
        self.processor = model.processor if isinstance(model, LoadedModel) else load_processor(
            spec.name_or_path, spec.min_pixels, spec.max_pixels, **spec.hub())
        mm_kwargs = {k: v for k, v in (("min_pixels", spec.min_pixels), ("max_pixels", spec.max_pixels)) if v}
        self.llm = vllm.LLM(
            model=spec.name_or_path, tensor_parallel_size=tensor_parallel_size, dtype=dtype,
            gpu_memory_utilization=gpu_memory_utilization, max_model_len=max_model_len,
            enable_prefix_caching=enable_prefix_caching, trust_remote_code=spec.trust_remote_code,
            mm_processor_kwargs=mm_kwargs or None, **engine_kwargs,
        )
        self._vllm = vllm
        self.cleaner = make_cleaner(self.processor)
        tok = getattr(self.processor, "tokenizer", self.processor)
        self.tokenizer = tok
        self.context_length = self.llm.llm_engine.model_config.max_model_len

    def _text(self, prompt: Prompt) -> str:
        return templated_text(prompt, self.processor)

    def generate(self, prompts: list[Prompt], params: SamplingParams) -> list[list[Completion]]:
        forced_ids = self.tokenizer.encode(params.forced_text, add_special_tokens=False) if params.forcing else ()
        return generate_with_forcing(prompts, params, self._draw, self._continue, forced_ids)

    def _run(self, requests: list[dict[str, Any]], kwargs: list[dict[str, Any]]) -> list[Any]:
        sps = [self._vllm.SamplingParams(**kw) for kw in kwargs]
        return self.llm.generate(requests, sps, use_tqdm=False)

    def _draw(self, prompts: list[Prompt], params: SamplingParams) -> list[list[Completion]]:
        outs = self._run([engine_request(p, self._text(p)) for p in prompts],
                         [sampling_kwargs(params, params.max_new_tokens, request_seed(params.seed, p.id, 0)) for p in prompts])
        return [[completion_from_output(o, self.cleaner, params.stop) for o in ro.outputs] for ro in outs]

    def _continue(self, prompts: list[Prompt], plan: list[Continuation], params: SamplingParams) -> list[Completion]:
        one = replace(params, n=1, think_budget=None)
        requests = [engine_request(prompts[c.prompt_index], self._text(prompts[c.prompt_index]) + c.prefix) for c in plan]
        seeds = [request_seed(params.seed, prompts[c.prompt_index].id, c.draw + params.n) for c in plan]
        kwargs = [sampling_kwargs(one, c.budget, seed) for c, seed in zip(plan, seeds)]
        return [completion_from_output(ro.outputs[0], self.cleaner, params.stop) for ro in self._run(requests, kwargs)]

    def update_weights(self, weights: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> None:
        """Load new weights into the engine in memory and drop its now stale prefix cache."""
        engine_model(self.llm).load_weights(vllm_weights(weights))
        self.llm.reset_prefix_cache()

    def close(self) -> None:
        import gc

        self.llm = None
        gc.collect()
