"""Mutation check of the GRPO trainer: plant known bugs, run the fast trainer tests, list survivors.

Each mutant is one textual change to the library (applied to a scratch copy of the repository,
never to this checkout); the trainer tests run against the copy, and a mutant *survives* when
they still pass. A test suite that lets one survive cannot see that bug. Peer: none (this
measures our own tests); exit status 1 when any mutant survives.

    python benchmarks/trainer_mutants.py            # all mutants, the fast trainer tests
    python benchmarks/trainer_mutants.py --only flip-advantages
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ["tests/rl/test_step_parts.py", "tests/rl/test_trainer.py", "tests/rl/test_losses.py",
         "tests/rl/test_advantages.py", "tests/rl/test_kl.py", "tests/rl/test_golden.py", "tests/rl/test_config.py"]


@dataclass(frozen=True)
class Mutant:
    name: str
    file: str
    old: str
    new: str
    what: str


MUTANTS = [
    Mutant("no-old-logprobs", "mmrl/rl/trainer.py", "    if not cfg.single_update or cfg.loss.kl_in_reward:\n",
           "    if cfg.loss.kl_in_reward:\n",
           "never compute the old log-probs (the clip sees a ratio of 1 in every epoch)"),
    Mutant("flip-advantages", "mmrl/rl/trainer.py",
           "batch.advantages = compute_advantages(cfg.loss.advantage, rewards,",
           "batch.advantages = -compute_advantages(cfg.loss.advantage, rewards,",
           "flip the sign of the advantages (gradient ascent on bad answers)"),
    Mutant("update-at-t1", "mmrl/rl/update.py",
           "group_logprobs(engine.model, encode, batch, micro, cfg.sampling.temperature,",
           "group_logprobs(engine.model, encode, batch, micro, 1.0,",
           "run the update at temperature 1 while old/reference log-probs use the sampling temperature"),
    Mutant("micro-own-norm", "mmrl/rl/update.py", "norm=norm, ref_logp=ref", "norm=None, ref_logp=ref",
           "normalise each micro-batch by its own token count instead of its mini-batch's"),
    Mutant("no-clip", "mmrl/rl/update.py", "clip_low=loss_spec.clip_low, clip_high=loss_spec.clip_high",
           "clip_low=1e9, clip_high=1e9", "drop the clip (any ratio passes)"),
    Mutant("schedule-in-steps", "mmrl/rl/trainer.py",
           "cfg.optim.for_updates(cfg.run.max_steps * cfg.updates_per_step)", "cfg.optim.for_updates(cfg.run.max_steps)",
           "size the learning-rate schedule in steps while it advances once per update"),
    Mutant("kl-unclamped", "mmrl/rl/update.py", "kl_clamp=loss_spec.kl_clamp,", "kl_clamp=None,",
           "drop the KL clamp"),
    Mutant("gspo-sum-ratio", "mmrl/rl/losses.py",
           "seq = token.sum(-1, keepdim=True) / m.sum(-1, keepdim=True).clamp(min=1)",
           "seq = token.sum(-1, keepdim=True)",
           "GSPO's sequence ratio from the sum of the token log-ratios instead of their mean"),
    Mutant("gspo-ratio-not-detached", "mmrl/rl/losses.py", "logp - logp.detach() + seq.detach()",
           "logp - logp.detach() + seq", "let the sequence ratio's mean carry a gradient besides each token's"),
    Mutant("gspo-level-dropped", "mmrl/rl/update.py", " level=loss_spec.importance_sampling_level,", "",
           "the update ignores --importance-sampling-level (token ratios under --algo gspo)"),
    Mutant("gspo-preset-token", "mmrl/rl/config.py", '"importance_sampling_level": "sequence"',
           '"importance_sampling_level": "token"', "--algo gspo without the sequence ratio"),
    Mutant("batch-scale-group-std", "mmrl/rl/advantages.py",
           "std = g.rewards.std() if g.rewards.numel() > 1 else g.rewards.new_zeros(())",
           "std = g.std()", "--scale-rewards batch divides by the group std"),
    Mutant("scale-ignored", "mmrl/rl/advantages.py", '        kw["scale"] = scale\n', "",
           "--scale-rewards accepted and not applied"),
    Mutant("kl-reward-not-subtracted", "mmrl/rl/trainer.py", "rewards, extra = rewards - penalty,",
           "rewards, extra = rewards,", "--kl-in-reward reports the penalty but the advantages never see it"),
    Mutant("kl-reward-added", "mmrl/rl/trainer.py", "rewards, extra = rewards - penalty,",
           "rewards, extra = rewards + penalty,", "the KL penalty with the wrong sign (a bonus for drifting)"),
    Mutant("kl-in-loss-too", "mmrl/rl/update.py", "beta = 0.0 if loss_spec.kl_in_reward else loss_spec.beta",
           "beta = loss_spec.beta", "--kl-in-reward also keeps the KL loss term (the KL counted twice)"),
    Mutant("no-kl-monitor", "mmrl/rl/config.py", ' or (monitor == "auto" and self.model.lora is not None)', "",
           "a LoRA run at beta 0 loads no reference and reports no KL"),
]


def scratch_copy(dest: Path) -> None:
    ignore = shutil.ignore_patterns(".git", ".venv*", "__pycache__", "*.egg-info", "benchmarks", ".suites")
    shutil.copytree(ROOT, dest, ignore=ignore, dirs_exist_ok=True)


def check_applies(root: Path, m: Mutant) -> str:
    """The text of ``m.file`` under ``root``; exits when the text to change is not there exactly once."""
    text = (root / m.file).read_text(encoding="utf-8")
    if text.count(m.old) != 1:
        raise SystemExit(f"mutant {m.name}: the text to change is in {m.file} {text.count(m.old)} times, not once "
                         "(the code moved: update the mutant)")
    return text


def apply(copy: Path, m: Mutant) -> None:
    (copy / m.file).write_text(check_applies(copy, m).replace(m.old, m.new), encoding="utf-8")


def run_tests(copy: Path) -> tuple[bool, float]:
    """True when the tests pass on the copy (the copy's mmrl first on the path)."""
    env = {**__import__("os").environ, "PYTHONPATH": str(copy)}
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *TESTS],
                          cwd=copy, env=env, capture_output=True, text=True)
    return proc.returncode == 0, time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", action="append", help="run only this mutant (repeatable)")
    args = ap.parse_args()
    chosen = [m for m in MUTANTS if not args.only or m.name in args.only]
    for m in chosen:  # every mutant still applies, before minutes of tests
        check_applies(ROOT, m)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "clean"
        scratch_copy(base)
        ok, seconds = run_tests(base)
        print(f"clean copy: tests {'pass' if ok else 'FAIL'} ({seconds:.0f} s)", file=sys.stderr)
        if not ok:
            print("the tests fail without any mutant: fix that first", file=sys.stderr)
            return 2
        for m in chosen:
            copy = Path(tmp) / m.name
            shutil.copytree(base, copy)
            apply(copy, m)
            passed, seconds = run_tests(copy)
            rows.append((m, "SURVIVED" if passed else "killed", seconds))
            print(f"{m.name}: {'SURVIVED' if passed else 'killed'} ({seconds:.0f} s)", file=sys.stderr)
    print(f"{'mutant':<26} {'result':<9} {'s':>5}  what it plants")
    for m, result, seconds in rows:
        print(f"{m.name:<26} {result:<9} {seconds:5.0f}  {m.what}")
    survivors = [m.name for m, result, _ in rows if result == "SURVIVED"]
    print(f"{len(survivors)} of {len(rows)} survived" + (f": {', '.join(survivors)}" if survivors else ""))
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
