"""The vllm backend's contract with a real vLLM, checked on a GPU machine with one command.

    python benchmarks/vllm_contract.py                      # the default engine (multiprocessing on)
    python benchmarks/vllm_contract.py --colocate           # the in-process engine a trainer shares a GPU with
    python benchmarks/vllm_contract.py --engine hf --size xs --device cpu   # the checks themselves, on a CPU

A random-weight tiny Qwen2.5-VL is built here (``mmrl.model.tiny.init_tiny``, no hub), its weights
scaled up so that greedy decoding varies, and synthetic image prompts are rendered. The engine under
test is compared with the hf backend's model (the reference: the trainer's forward) on those prompts:

  draws      n seeded draws per prompt, each with a finish reason and one log-prob per token; rerun identical
  logprobs   each sampled token's log-prob equals the reference's log softmax(logits / T), teacher-forced
  greedy     greedy n > 1 gives n equal draws, each token the reference's argmax (up to a near-tie)
  forced     a forced answer records draw ids + forced ids + answer ids, loss mask 0 on the forced ids, and
             its log-probs equal the reference's on exactly those ids (the engine conditioned on them)
  vision     new vision-tower weights alone change the greedy draws of images drawn before (no stale features)
  weights    new weights everywhere change the greedy draws, which stay the reference's argmax
  batch      (information) seeded draws of one prompt alone equal its draws in the batch

Prints one line per check, writes the JSON report to ``--out``, exits 1 when a check fails.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

TOLERANCE = {"float32": 2e-3, "bfloat16": 0.1, "float16": 5e-2}  # nats between engine and reference log-probs
MAX_PROMPT_LENGTH = 512
MAX_NEW_TOKENS = 24


@dataclass
class Check:
    name: str
    passed: bool | None  # None: information only
    details: dict[str, Any] = field(default_factory=dict)


def build_model(out_dir: Path, size: str, seed: int) -> str:
    """A tiny random Qwen2.5-VL, weights ~N(0, 0.3) so that its greedy draws are not one token repeated."""
    import torch

    from mmrl.model.loading import ModelSpec, load
    from mmrl.model.tiny import init_tiny

    init_tiny(out_dir, size=size, seed=seed)
    loaded = load(ModelSpec(str(out_dir), device="cpu"))
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in loaded.model.parameters():
            if p.dim() > 1:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.3)
    loaded.model.save_pretrained(out_dir)
    return str(out_dir)


def build_prompts(work: Path, processor: Any, context_length: int | None, count: int) -> list:
    from mmrl.data.synth import synthesize
    from mmrl.io.jsonl import iter_located
    from mmrl.rollout import PromptBuilder, PromptConfig

    data = work / "data.jsonl"
    synthesize(data, task="mix", n=count, seed=0, image_size=112)
    builder = PromptBuilder(PromptConfig(max_prompt_length=MAX_PROMPT_LENGTH), processor=processor,
                            context_length=context_length)
    return [builder.build(item) for item in iter_located(str(data))]


class Reference:
    """The hf backend's model scoring given token ids, teacher-forced."""

    def __init__(self, spec: Any):
        from mmrl.rollout import make_backend

        self.backend = make_backend("hf", spec)
        self.backend.model.eval()
        self.pad_id = self.backend.tokenizer.pad_token_id or 0

    def logprobs(self, prompts: list, groups: list[list[list[int]]], temperature: float) -> list[list[list[float]]]:
        """log softmax(logits / T) of each token of each sequence, ``groups[i]`` continuing ``prompts[i]``."""
        import torch

        from mmrl.model.prefix import shared_prefix_logprobs

        flat = [ids for group in groups for ids in group]
        with torch.no_grad():
            lp, _ = shared_prefix_logprobs(self.backend.model, self.backend.encode(prompts), flat,
                                           [len(g) for g in groups], pad_id=self.pad_id, temperature=temperature or 1.0)
        rows = iter(lp.tolist())
        return [[next(rows)[:len(ids)] for ids in group] for group in groups]

    def greedy(self, prompts: list) -> list[list[int]]:
        from mmrl.rollout import SamplingParams

        groups = self.backend.generate(prompts, SamplingParams(temperature=0, max_new_tokens=MAX_NEW_TOKENS))
        return [g[0].token_ids for g in groups]


def token_ids(groups: list[list[Any]]) -> list[list[list[int]]]:
    return [[c.token_ids for c in g] for g in groups]


def sampled_gap(completions: list[list[Any]], reference_lp: list[list[list[float]]]) -> float:
    """Largest |engine - reference| log-prob over sampled tokens (loss mask 1)."""
    gap = 0.0
    for group, ref_group in zip(completions, reference_lp):
        for c, ref in zip(group, ref_group):
            for lp, r, m in zip(c.logprobs, ref, c.sampled_mask()):
                if m:
                    gap = max(gap, abs(lp - r))
    return gap


def greedy_gaps(prompts: list, engine_ids: list[list[int]], ref_ids: list[list[int]],
                reference: Reference) -> list[float]:
    """Per prompt whose greedy draws differ: how much less likely (reference log-prob, same prefix)
    the engine's token is than the reference's at the first position they differ."""
    firsts = [next((k for k, (a, b) in enumerate(zip(e, r)) if a != b), None) for e, r in zip(engine_ids, ref_ids)]
    differ = [i for i, k in enumerate(firsts) if k is not None]
    if not differ:
        return []
    pairs = [[engine_ids[i][:firsts[i] + 1], ref_ids[i][:firsts[i] + 1]] for i in differ]
    scored = reference.logprobs([prompts[i] for i in differ], pairs, 1.0)
    return [ref[-1] - eng[-1] for eng, ref in scored]


def check_draws(engine: Any, prompts: list) -> Check:
    from mmrl.rollout import SamplingParams

    params = SamplingParams(n=4, max_new_tokens=MAX_NEW_TOKENS, seed=0, logprobs=True)
    first, again = engine.generate(prompts, params), engine.generate(prompts, params)
    shaped = all(len(g) == 4 for g in first) and all(
        c.finish_reason in ("stop", "length") and len(c.logprobs) == len(c.token_ids) == c.num_tokens > 0
        for g in first for c in g)
    same = token_ids(first) == token_ids(again)
    return Check("draws", shaped and same, {"n": 4, "shaped": shaped, "seeded_rerun_identical": same})


def check_logprobs(engine: Any, reference: Reference, prompts: list, tol: float) -> Check:
    from mmrl.rollout import SamplingParams

    params = SamplingParams(n=4, temperature=0.8, max_new_tokens=MAX_NEW_TOKENS, seed=1, logprobs=True)
    drawn = engine.generate(prompts, params)
    gap = sampled_gap(drawn, reference.logprobs(prompts, token_ids(drawn), params.temperature))
    return Check("logprobs", gap <= tol, {"temperature": 0.8, "max_abs_gap": gap, "tolerance": tol})


def check_greedy(engine: Any, reference: Reference, prompts: list, tol: float) -> Check:
    from mmrl.rollout import SamplingParams

    groups = engine.generate(prompts, SamplingParams(n=3, temperature=0, max_new_tokens=MAX_NEW_TOKENS))
    copies = all(g == [g[0]] * 3 for g in groups)
    gaps = greedy_gaps(prompts, [g[0].token_ids for g in groups], reference.greedy(prompts), reference)
    passed = copies and all(gap <= tol for gap in gaps)
    return Check("greedy", passed, {"n_equal_copies": copies, "prompts": len(prompts), "diverging": len(gaps),
                                    "max_gap_at_divergence": max(gaps, default=0.0), "tolerance": tol})


def check_forced(engine: Any, reference: Reference, prompts: list, tol: float) -> Check:
    from mmrl.rollout import SamplingParams

    params = SamplingParams(n=2, max_new_tokens=MAX_NEW_TOKENS, seed=2, think_budget=8, answer_budget=6, logprobs=True)
    drawn = engine.generate(prompts, params)
    forced_ids = engine.tokenizer.encode(params.forced_text, add_special_tokens=False)
    forced = [c for g in drawn for c in g if c.finish_reason == "forced"]
    recorded = all([t for t, m in zip(c.token_ids, c.sampled_mask()) if not m] == forced_ids for c in forced)
    gap = sampled_gap(drawn, reference.logprobs(prompts, token_ids(drawn), 1.0))
    passed = bool(forced) and recorded and gap <= tol
    return Check("forced", passed, {"forced_draws": len(forced), "forced_ids_recorded_and_masked": recorded,
                                    "max_abs_gap": gap, "tolerance": tol})


def changed_weights(model: Any, keep: Callable[[str], bool], seed: int) -> dict[str, Any]:
    """Parameters (tied ones once, as ``named_parameters`` lists them) moved by half their spread."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    out = {}
    for name, p in model.named_parameters():
        if p.dim() > 1 and keep(name):
            noise = torch.randn(p.shape, generator=gen).to(p.device, p.dtype)
            out[name] = p.detach() + 0.5 * p.detach().float().std().to(p.dtype) * noise
    return out


def check_weights(name: str, keep: Callable[[str], bool], engine: Any, reference: Reference, prompts: list,
                  tol: float, seed: int) -> Check:
    from mmrl.rollout import SamplingParams

    greedy = SamplingParams(temperature=0, max_new_tokens=MAX_NEW_TOKENS)
    before = [g[0].token_ids for g in engine.generate(prompts, greedy)]
    new = changed_weights(reference.backend.model, keep, seed)
    engine.update_weights(new)
    reference.backend.update_weights(new)
    after = [g[0].token_ids for g in engine.generate(prompts, greedy)]
    gaps = greedy_gaps(prompts, after, reference.greedy(prompts), reference)
    changed = sum(a != b for a, b in zip(after, before))
    passed = changed > 0 and all(gap <= tol for gap in gaps)
    return Check(name, passed, {"tensors_pushed": len(new), "prompts_changed": changed, "prompts": len(prompts),
                                "diverging_from_reference": len(gaps), "max_gap_at_divergence": max(gaps, default=0.0),
                                "tolerance": tol})


def check_batch(engine: Any, prompts: list) -> Check:
    from mmrl.rollout import SamplingParams

    params = SamplingParams(n=2, max_new_tokens=MAX_NEW_TOKENS, seed=3)
    together = token_ids(engine.generate(prompts, params))
    alone = [token_ids(engine.generate([p], params))[0] for p in prompts]
    same = sum(a == b for a, b in zip(together, alone))
    return Check("batch", None, {"prompts_identical_alone_and_batched": same, "prompts": len(prompts)})


def make_engine(kind: str, spec: Any, colocate: bool) -> Any:
    from mmrl.rollout import make_backend

    if kind == "hf":
        return make_backend("hf", spec)
    return make_backend("vllm", spec, max_prompt_length=MAX_PROMPT_LENGTH, max_new_tokens=MAX_NEW_TOKENS,
                        colocate=colocate, enforce_eager=True)


def run_checks(engine: Any, reference: Reference, prompts: list, tol: float) -> list[Check]:
    """Every check, in order; one that raises is a failed check carrying the error, and the rest still run."""
    checks = [
        ("draws", lambda: check_draws(engine, prompts)),
        ("logprobs", lambda: check_logprobs(engine, reference, prompts, tol)),
        ("greedy", lambda: check_greedy(engine, reference, prompts, tol)),
        ("forced", lambda: check_forced(engine, reference, prompts, tol)),
        ("vision", lambda: check_weights("vision", lambda n: "visual." in n, engine, reference, prompts, tol, seed=4)),
        ("weights", lambda: check_weights("weights", lambda n: True, engine, reference, prompts, tol, seed=5)),
        ("batch", lambda: check_batch(engine, prompts)),
    ]
    results = []
    for name, run in checks:
        try:
            results.append(run())
        except Exception as e:  # noqa: BLE001  (reported as this check's failure, with the error)
            results.append(Check(name, False, {"error": f"{type(e).__name__}: {e}"}))
    return results


def environment(kind: str) -> dict[str, Any]:
    import torch

    env = {"torch": torch.__version__, "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None}
    if kind == "vllm":
        import vllm

        env["vllm"] = vllm.__version__
    return env


def run_contract(engine: str = "vllm", size: str = "m", dtype: str = "float32", device: str = "auto",
                 colocate: bool = False, prompts: int = 6, seed: int = 0) -> dict[str, Any]:
    """Build the model and prompts, run every check; the report as a dict."""
    from mmrl.model.loading import ModelSpec

    start = time.perf_counter()
    tol = TOLERANCE[dtype]
    with tempfile.TemporaryDirectory() as tmp:
        spec = ModelSpec(build_model(Path(tmp) / "model", size, seed), dtype=dtype, device=device)
        reference = Reference(spec)
        backend = make_engine(engine, spec, colocate)
        try:
            batch = build_prompts(Path(tmp), backend.processor, backend.context_length, prompts)
            checks = run_checks(backend, reference, batch, tol)
        finally:
            backend.close()
    return {
        "engine": engine, "colocate": colocate, "size": size, "dtype": dtype, **environment(engine),
        "passed": all(c.passed is not False for c in checks), "seconds": round(time.perf_counter() - start, 1),
        "checks": [asdict(c) for c in checks],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--engine", choices=["vllm", "hf"], default="vllm",
                    help="backend under test (hf: checks the checks)")
    ap.add_argument("--colocate", action="store_true",
                    help="vllm: the in-process engine (external_launcher, sleep mode)")
    ap.add_argument("--size", default="m", help="tiny model size: xs, s, m (m: head size 64, safe for vLLM kernels)")
    ap.add_argument("--dtype", choices=sorted(TOLERANCE), default="float32")
    ap.add_argument("--device", default="auto", help="the reference model's device")
    ap.add_argument("--prompts", type=int, default=6)
    ap.add_argument("--out", default=None, help="write the JSON report here")
    args = ap.parse_args(argv)
    report = run_contract(args.engine, args.size, args.dtype, args.device, args.colocate, args.prompts)
    for c in report["checks"]:
        mark = {True: "PASS", False: "FAIL", None: "INFO"}[c["passed"]]
        print(f"{mark}  {c['name']:<9} {json.dumps(c['details'])}")
    print(f"{'all passed' if report['passed'] else 'FAILED'} in {report['seconds']}s "
          f"({report['engine']}{' colocated' if report['colocate'] else ''}, {report['dtype']}, "
          f"vllm {report.get('vllm')}, {report.get('gpu') or 'cpu'})")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=2, default=lambda x: None if math.isnan(x) else x))
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
