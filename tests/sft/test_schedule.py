"""The batch plan: full batches, every example once per epoch, the same micro-batches on 1 or 2 processes."""
from __future__ import annotations

from mmrl.sft.schedule import BatchPlan


def test_each_epoch_sees_every_example_once():
    plan = BatchPlan(n=10, batch_size=2, grad_accum=1, seed=3)
    stream = [i for step in range(10) for i in plan.global_indices(step)]  # two epochs
    assert sorted(stream[:10]) == list(range(10)) and sorted(stream[10:]) == list(range(10))
    assert stream[:10] != stream[10:]  # a fresh order each epoch


def test_batches_are_always_full_and_borrow_across_epochs():
    plan = BatchPlan(n=5, batch_size=2, grad_accum=1)
    assert plan.steps_for(1) == 3
    assert all(len(plan.global_indices(s)) == 2 for s in range(3))


def test_one_process_with_double_accumulation_runs_the_micro_batches_of_two_processes():
    one = BatchPlan(n=12, batch_size=2, grad_accum=2, world_size=1, seed=1)
    two = BatchPlan(n=12, batch_size=2, grad_accum=1, world_size=2, seed=1)
    for step in range(4):
        assert one.micro_batches(step, 0) == two.micro_batches(step, 0) + two.micro_batches(step, 1)


def test_the_order_depends_only_on_seed_and_step():
    a, b = BatchPlan(n=9, batch_size=3, seed=7), BatchPlan(n=9, batch_size=3, seed=7)
    assert [a.global_indices(s) for s in (5, 0, 2)] == [b.global_indices(s) for s in (5, 0, 2)]
    assert BatchPlan(n=9, batch_size=3, seed=8).global_indices(0) != a.global_indices(0)
