"""Training pieces shared by warm-up SFT and the online RL trainer.

``optim`` (AdamW and learning-rate schedules), ``loss`` (token log-likelihoods), ``checkpoint``
(save and resume with optimizer, scheduler, RNG and data position), ``metrics`` (SPEC.md
section 5 JSONL, optional TensorBoard) and ``distributed`` (one process or DeepSpeed ZeRO).
"""
