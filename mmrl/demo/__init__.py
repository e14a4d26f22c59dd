"""``mmrl demo``: the whole pipeline on the embedded default, showing RL make a tiny model better."""
from mmrl.demo.config import DemoConfig, quick
from mmrl.demo.pipeline import run_demo

__all__ = ["DemoConfig", "quick", "run_demo"]
