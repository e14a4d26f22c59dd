"""Built-in benchmark adapters; importing this package registers each of them."""
from mmrl.eval.benchmarks import chartqa, geometry3k, k12, mathverse, mathvision, mathvista, spec  # noqa: F401
