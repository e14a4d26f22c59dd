"""The math of online RL on verifiable rewards: pure functions and small stateful samplers.

- ``advantages``: group-relative advantage estimators (GRPO, Dr.GRPO, RLOO, REINFORCE++-baseline,
  StepGRPO), registered by name in ``ADVANTAGES``.
- ``kl``: per-token KL estimators against a reference policy (k1, k2, k3), in ``KL_ESTIMATORS``.
- ``losses``: the clipped policy-gradient surrogate, loss aggregation modes (``AGGREGATIONS``),
  entropy, and ``policy_loss``, which composes one step's loss from those parts.
- ``sampling``: prompt samplers (uniform epochs, RLCS curriculum), offline difficulty bands,
  online group filters (``GROUP_FILTERS``) and the dynamic-oversampling EMA.

Tensors in, tensors out, in the manner of verl's ``core_algos``; the trainer owns the model.
Importing this package is cheap: each module loads torch only if it needs it (``sampling`` does not).
"""
