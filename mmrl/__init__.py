"""mmrl: reinforcement learning of vision-language reasoning models on verifiable rewards.

Importing ``mmrl`` is cheap: heavy dependencies (torch, transformers) load only in the modules
that need them, so commands such as ``mmrl reward`` start fast.
"""
__version__ = "0.1.0"
