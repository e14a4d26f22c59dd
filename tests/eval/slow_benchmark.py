"""A user benchmark whose scorer never returns for responses containing HANG (for the timeout test)."""
from mmrl.eval.benchmark import Benchmark, Judgement


class SlowBench(Benchmark):
    name = "slow"
    summary = "a scorer that hangs on HANG"
    hub_id = ""
    default_split = "all"
    splits = ("all",)
    scorer = "test only"

    def to_sample(self, row, images, index, split):
        return dict(row)

    def score(self, response, sample, params, judge=None):
        while "HANG" in response:
            pass
        return Judgement(response, response, response == sample["answer"], "exact")
