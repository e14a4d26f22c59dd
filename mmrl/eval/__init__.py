"""``mmrl eval``: benchmarks scored with their official rules, deterministic and judge-free.

Public API:
- ``get_benchmark(name)``, ``benchmark_names()``, ``register_benchmark``, ``Benchmark``,
  ``Judgement`` (mmrl.eval.benchmark): the adapter registry;
- ``iter_samples`` (mmrl.eval.data): a benchmark split as SPEC samples;
- ``audit_row`` (mmrl.eval.scoring), ``summarize`` (mmrl.eval.summary),
  ``comparison_rows`` (mmrl.eval.compare): scoring, aggregation, comparison;
- ``run_eval``/``score_file``/``prepare`` (mmrl.eval.runner): the command's three paths;
- ``mmrl.eval.verifiers``: importing it registers every benchmark scorer as a reward verifier.
Kept free of heavy imports: the submodules load torch only on the model path.
"""
from mmrl.eval.benchmark import Benchmark, Judgement, benchmark_names, get_benchmark, register_benchmark

__all__ = ["Benchmark", "Judgement", "benchmark_names", "get_benchmark", "register_benchmark"]
