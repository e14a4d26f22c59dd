"""Issue 20, the I/O side: data never runs code, --overwrite never deletes what mmrl did not write,
plot never replaces its input, and no damaged or hostile file ends in a traceback.

One row a case (``harness.Case``), security first; cases that are not one command line (the
library's reward pool on stdin, a disk that fills up) are plain tests at the end.
"""
from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.adversarial.harness import Case, check

# ---------------------------------------------------------------------------------------------
# fixtures: small files each row builds in its own tmp_path

EVIL = "import pathlib\npathlib.Path({marker!r}).write_text('ran')\ndef f(response, sample, params):\n    return 1.0\n"


def evil_plugin(tmp: Path) -> str:
    """A user verifier file that leaves a marker when it is imported: proof that data ran code."""
    plugin = tmp / "evil.py"
    if not plugin.exists():
        plugin.write_text(EVIL.format(marker=str(tmp / "PWNED")), encoding="utf-8")
    return f"{plugin}:f"


def marker(tmp: Path) -> Path:
    return tmp / "PWNED"


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def sample(i: int = 0, **extra) -> dict:
    return {"id": f"s{i}", "question": "What is 1+1?", "answer": "2", **extra}


def draw(i: int = 0, **extra) -> dict:
    return {**sample(i, **extra), "sample": 0, "response": "<answer>2</answer>", "num_tokens": 3,
            "finish_reason": "stop", "model": "m"}


def plugin_data(tmp: Path, where: str = "verifier", rollout: bool = False) -> Path:
    """Samples (or drawn records) whose reward spec names the evil plugin."""
    ref = evil_plugin(tmp)
    spec = {"verifier": ref} if where == "verifier" else \
        {"verifier": "steprvr", "params": {"answer_verifier": ref}}
    make = draw if rollout else sample
    extra = {"response": "<answer>2</answer>"} if not rollout else {}
    return write_jsonl(tmp / "data.jsonl", [make(0, **extra), make(1, reward=spec, **extra)])


def module_data(tmp: Path) -> Path:
    return write_jsonl(tmp / "data.jsonl", [sample(0, reward={"verifier": "this:s"})])


def arrow_stream(path: Path, rows: list[dict]) -> Path:
    import pyarrow as pa

    table = pa.Table.from_pylist(rows)
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return path


def saved_dataset(tmp: Path, state: object, name: str = "ds") -> Path:
    """A save_to_disk-like folder whose state.json is ``state``; a real Arrow file lies beside the
    folder (outside it), so a reader that follows ``../`` finds valid rows there."""
    folder = tmp / name
    folder.mkdir(exist_ok=True)
    arrow_stream(tmp / "secret.arrow", [sample(0)])
    (folder / "state.json").write_text(json.dumps(state), encoding="utf-8")
    return folder


def dataset_dict(tmp: Path, body: object) -> Path:
    folder = tmp / "dd"
    (folder / "train").mkdir(parents=True, exist_ok=True)
    arrow_stream(folder / "train" / "data-00000-of-00001.arrow", [sample(0)])
    (folder / "train" / "state.json").write_text(json.dumps({"_data_files": [
        {"filename": "data-00000-of-00001.arrow"}], "_split": "train"}), encoding="utf-8")
    (folder / "dataset_dict.json").write_text(json.dumps(body), encoding="utf-8")
    return folder


def split_elsewhere(tmp: Path) -> Path:
    """A DatasetDict whose split name climbs out of it, into a valid saved dataset beside it."""
    dataset_dict(tmp, {"splits": ["train"]})
    os.rename(tmp / "dd" / "train", tmp / "elsewhere")
    (tmp / "dd" / "dataset_dict.json").write_text(json.dumps({"splits": ["../elsewhere"]}), encoding="utf-8")
    return tmp / "dd"


def alias_bomb(tmp: Path, levels: int = 6, width: int = 9) -> Path:
    """A recipe of ``levels`` mappings of ``width`` aliases each: a few hundred bytes that expand
    to width**levels values."""
    lines = ["l0: &l0 {" + ", ".join(f"k{j}: x" for j in range(width)) + "}"]
    for i in range(1, levels + 1):
        lines.append(f"l{i}: &l{i} {{" + ", ".join(f"k{j}: *l{i - 1}" for j in range(width)) + "}")
    path = tmp / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def self_alias(tmp: Path) -> Path:
    path = tmp / "loop.yaml"
    path.write_text("loop: &a {self: *a}\n", encoding="utf-8")
    return path


DEEP = "[" * 100_000 + "]" * 100_000


def deep_line(tmp: Path, name: str = "deep.jsonl") -> Path:
    path = tmp / name
    path.write_text('{"id": "a", "question": "q", "answer": ' + DEEP + "}\n", encoding="utf-8")
    return path


def damaged_parquet(tmp: Path) -> Path:
    path = tmp / "damaged.parquet"
    path.write_bytes(b"PAR1" + b"\x00garbage" * 50 + b"PAR1")
    return path


def user_folder(tmp: Path, manifest: list[str] | None = None) -> Path:
    """A folder holding a user's own file (and, when given, an earlier demo's manifest and outputs)."""
    folder = tmp / "out"
    folder.mkdir(exist_ok=True)
    (folder / "thesis.tex").write_text("years of work", encoding="utf-8")
    if manifest is not None:
        (folder / ".mmrl-outputs.json").write_text(json.dumps({"entries": manifest}), encoding="utf-8")
        (folder / "summary.json").write_text("{}", encoding="utf-8")
    return folder


def metrics(tmp: Path, rows: list[str]) -> Path:
    path = tmp / "metrics.jsonl"
    path.write_text("".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def steps(*values: str, key: str = "reward/mean") -> list[str]:
    return [f'{{"step": {i + 1}, "{key}": {v}}}' for i, v in enumerate(values)]


def json_rows(tmp: Path) -> Path:
    path = tmp / "rows.json"
    path.write_text('[{"id": "a", "question": "q", "answer": "1"}, {"id": "b", "question": "q", "answer": "1"},'
                    ' {"id": "c", "question": "q", "answer": NaN}]', encoding="utf-8")
    return path


def symlink(tmp: Path, target: Path, name: str = "link.png") -> Path:
    link = tmp / name
    link.symlink_to(target)
    return link


def two_splits(tmp: Path) -> Path:
    """A DatasetDict folder with a train and a test split."""
    folder = dataset_dict(tmp, {"splits": ["train", "test"]})
    (folder / "test").mkdir()
    arrow_stream(folder / "test" / "data-00000-of-00001.arrow", [sample(5)])
    (folder / "test" / "state.json").write_text(json.dumps({"_data_files": [
        {"filename": "data-00000-of-00001.arrow"}], "_split": "test"}), encoding="utf-8")
    return folder


# ---------------------------------------------------------------------------------------------
# the table

CASES = [
    # 1. security: a data file never makes mmrl import code
    Case("validate-file-verifier", "20.1", lambda t, fx: ["data", "validate", plugin_data(t)],
         "names code", setup=lambda t, fx: [marker(t)]),
    Case("validate-module-verifier", "20.1", lambda t, fx: ["data", "validate", module_data(t)],
         "reward.verifier: verifier 'this:s' names code"),
    Case("validate-answer-verifier", "20.1", lambda t, fx: ["data", "validate", plugin_data(t, "params")],
         "reward.params.answer_verifier: verifier", setup=lambda t, fx: [marker(t)]),
    Case("reward", "20.1", lambda t, fx: ["reward", plugin_data(t, rollout=True), "-o", t / "scored.jsonl",
                                          "--workers", "0"],
         "data.jsonl:2: reward.verifier", setup=lambda t, fx: [marker(t)]),
    Case("reward-answer-verifier", "20.1",
         lambda t, fx: ["reward", plugin_data(t, "params", rollout=True), "-o", t / "s.jsonl", "--workers", "0"],
         "reward.params.answer_verifier", setup=lambda t, fx: [marker(t)]),
    Case("rollout", "20.1", lambda t, fx: ["rollout", "--data", plugin_data(t), "--model", fx["model"],
                                           "-o", t / "r.jsonl"],
         "data.jsonl:2: reward.verifier", setup=lambda t, fx: [marker(t)]),
    Case("grade", "20.1", lambda t, fx: ["grade", plugin_data(t), "--model", fx["model"], "-o", t / "g.jsonl"],
         "data.jsonl:2: reward.verifier", setup=lambda t, fx: [marker(t)]),
    Case("warmup-sft", "20.1", lambda t, fx: ["warmup-sft", "--model", fx["model"], "--data", plugin_data(t),
                                              "--out", t / "sft"],
         "data.jsonl:2: reward.verifier", setup=lambda t, fx: [marker(t)]),
    Case("grpo-start-up", "20.1", lambda t, fx: ["grpo", "--model", fx["model"], "--data", plugin_data(t),
                                                 "--out", t / "rl"],
         "data.jsonl:2: reward.verifier", setup=lambda t, fx: [marker(t)]),
    Case("eval", "20.1", lambda t, fx: ["eval", "spec", "--model", fx["model"], "--data", plugin_data(t),
                                        "-o", t / "ev"],
         "reward.verifier", setup=lambda t, fx: [marker(t)]),
    # 3. security: a saved dataset names only its own files
    Case("shard-outside", "20.3",
         lambda t, fx: ["data", "validate", saved_dataset(t, {"_data_files": [{"filename": "../secret.arrow"}]})],
         "lies outside the dataset folder"),
    Case("shard-absolute", "20.3",
         lambda t, fx: ["data", "validate", saved_dataset(t, {"_data_files": [{"filename": str(t / "secret.arrow")}]})],
         "lies outside the dataset folder"),
    Case("split-outside", "20.3", lambda t, fx: ["data", "validate", split_elsewhere(t)],
         "lies outside the dataset folder"),
    # 4. security: a small recipe may not expand into a huge one
    Case("alias-bomb", "20.4", lambda t, fx: ["--config", alias_bomb(t), "data", "validate", write_jsonl(
        t / "d.jsonl", [sample()])], "aliases"),
    Case("alias-loop", "20.4", lambda t, fx: ["--config", self_alias(t), "data", "validate", write_jsonl(
        t / "d.jsonl", [sample()])], "contains itself"),
    Case("alias-bomb-per-command", "20.4", lambda t, fx: ["data", "validate", "--config", alias_bomb(t), write_jsonl(
        t / "d.jsonl", [sample()])], "bomb.yaml"),
    # 5. --overwrite removes only what mmrl wrote
    Case("demo-overwrite-foreign-folder", "20.5",
         lambda t, fx: ["demo", "--quick", "--out", t / "out", "--overwrite"],
         "did not write", setup=lambda t, fx: [user_folder(t)]),
    Case("demo-overwrite-extra-file", "20.5",
         lambda t, fx: ["demo", "--quick", "--out", t / "out", "--overwrite"],
         "thesis.tex, which mmrl did not write", setup=lambda t, fx: [user_folder(t, ["summary.json"])]),
    Case("demo-out-dot", "20.5", lambda t, fx: ["demo", "--quick", "--out", ".", "--overwrite"],
         "did not write", setup=lambda t, fx: [user_folder(t)], cwd=lambda t, fx: t / "out"),
    Case("demo-out-empty", "20.5", lambda t, fx: ["demo", "--quick", "--out", "", "--overwrite"],
         "empty path", setup=lambda t, fx: [user_folder(t)], cwd=lambda t, fx: t / "out"),
    # 6. plot never replaces its input
    Case("plot-onto-input", "20.6", lambda t, fx: ["plot", t / "metrics.jsonl", "-o", t / "metrics.jsonl"],
         "is the input file", setup=lambda t, fx: [metrics(t, steps("0.1", "0.2"))]),
    Case("plot-onto-link-to-input", "20.6",
         lambda t, fx: ["plot", t / "metrics.jsonl", "-o", symlink(t, t / "metrics.jsonl")],
         "is the input file", setup=lambda t, fx: [metrics(t, steps("0.1", "0.2"))]),
    # 16. the loader: damaged and hostile files are located errors
    Case("rollout-damaged-parquet", "20.16", lambda t, fx: ["rollout", "--data", damaged_parquet(t), "--model",
                                                            fx["model"], "-o", t / "r.jsonl"],
         "damaged.parquet: cannot read"),
    Case("grade-damaged-parquet", "20.16", lambda t, fx: ["grade", damaged_parquet(t), "--model", fx["model"],
                                                          "-o", t / "g.jsonl"],
         "damaged.parquet: cannot read"),
    Case("warmup-sft-damaged-parquet", "20.16", lambda t, fx: ["warmup-sft", "--model", fx["model"], "--data",
                                                               damaged_parquet(t), "--out", t / "sft"],
         "damaged.parquet: cannot read"),
    Case("dataset-dict-list", "20.16", lambda t, fx: ["data", "validate", dataset_dict(t, ["train"])],
         "dataset_dict.json: expected an object"),
    Case("shard-without-filename", "20.16",
         lambda t, fx: ["data", "validate", saved_dataset(t, {"_data_files": [{"name": "x.arrow"}]})],
         "_data_files[0].filename: required field is missing"),
    Case("state-json-list", "20.16", lambda t, fx: ["data", "validate", saved_dataset(t, [1, 2])],
         "state.json: expected an object"),
    Case("deep-jsonl", "20.16", lambda t, fx: ["data", "validate", deep_line(t)], "deep.jsonl:1: lists or objects"),
    Case("deep-json", "20.16", lambda t, fx: ["data", "validate", deep_line(t, "deep.json")], "nested more than"),
    Case("deep-json-101", "20.16", lambda t, fx: ["reward", write_jsonl(
        t / "d.jsonl", [{**draw(), "meta": json.loads("[" * 101 + "]" * 101)}]), "--workers", "0"],
         "d.jsonl:1: lists or objects nested more than 100"),
    Case("deep-yaml", "20.16", lambda t, fx: ["--config", (t / "deep.yaml", (t / "deep.yaml").write_text(
        "a: " + DEEP + "\n"))[0], "data", "validate", write_jsonl(t / "d.jsonl", [sample()])], "deep.yaml"),
    Case("deep-param", "20.16", lambda t, fx: ["reward", write_jsonl(t / "d.jsonl", [draw()]), "--param",
                                               "tol=" + DEEP, "--workers", "0"], "nested more than"),
    Case("deep-plot", "20.16", lambda t, fx: ["plot", deep_line(t, "m.jsonl"), "-o", t / "c.png"],
         "m.jsonl:1: lists or objects"),
    # 17. plot's output: a folder, a path under a file, stdout
    Case("plot-into-folder", "20.17", lambda t, fx: ["plot", metrics(t, steps("0.1", "0.2")), "-o", t],
         "is a folder"),
    Case("plot-under-a-file", "20.17",
         lambda t, fx: ["plot", metrics(t, steps("0.1", "0.2")), "-o", t / "metrics.jsonl" / "c.png"],
         "is a file, not a folder", setup=lambda t, fx: [metrics(t, steps("0.1", "0.2"))]),
    Case("plot-empty-out", "20.17", lambda t, fx: ["plot", metrics(t, steps("0.1", "0.2")), "-o", ""],
         "is a folder", cwd=lambda t, fx: t),
    # 18. plot of extreme values: drawn, never a hang or an overflow
    Case("plot-2**53", "20.18", lambda t, fx: ["plot", metrics(t, steps(str(2**53), str(2**53 + 2))),
                                               "-o", t / "c.png"], "curves:", exit_code=0),
    Case("plot-step-2**53", "20.18", lambda t, fx: ["plot", metrics(t, [f'{{"step": {2**53}, "kl": 1}}',
                                                                        f'{{"step": {2**53 + 2}, "kl": 2}}']),
                                                    "-o", t / "c.png"], "curves:", exit_code=0),
    Case("plot-1e308", "20.18", lambda t, fx: ["plot", metrics(t, steps("-1e308", "1e308")), "-o", t / "c.png"],
         "curves:", exit_code=0),
    Case("plot-step-10**400", "20.18",
         lambda t, fx: ["plot", metrics(t, ['{"step": 1, "kl": 1}', '{"step": 1' + "0" * 400 + ', "kl": 2}']),
                        "-o", t / "c.png"], "metrics.jsonl:2: step: must be a finite number"),
    # smaller: rows of a JSON file are located by their 1-based number, like lines
    Case("json-row-located", "20.smaller", lambda t, fx: ["data", "validate", json_rows(t)],
         "rows.json:3: answer: NaN is not valid JSON"),
    Case("recipe-value-named", "20.smaller", lambda t, fx: ["--config", (t / "r.yaml", (t / "r.yaml").write_text(
        "data:\n  synth:\n    n: lots\n"))[0], "data", "synth", "-o", t / "d.jsonl"], "r.yaml"),
    Case("eval-data-split", "20.smaller", lambda t, fx: ["grpo", "--model", fx["model"], "--data",
                                                         write_jsonl(t / "d.jsonl", [sample()]), "--eval-data",
                                                         two_splits(t), "--out", t / "rl"],
         "dd/test"),
]


@pytest.fixture
def fixtures(tiny_model_dir) -> dict:
    return {"model": tiny_model_dir}


@pytest.mark.parametrize("case", CASES, ids=str)
def test_case(cli, case, tmp_path, fixtures):
    check(cli, case, tmp_path, fixtures)


# ---------------------------------------------------------------------------------------------
# plain tests: what the table cannot say

def test_a_plugin_named_on_the_command_line_may_be_named_by_the_data_too(cli, tmp_path):
    data = plugin_data(tmp_path, rollout=True)
    result = cli("reward", str(data), "-o", str(tmp_path / "s.jsonl"), "--workers", "0",
                 "--verifier", evil_plugin(tmp_path))
    assert result.exit_code == 0, result.output
    assert marker(tmp_path).exists()  # it ran: the user allowed it


def test_data_validate_allows_a_plugin_given_by_flag(cli, tmp_path):
    data = plugin_data(tmp_path)
    result = cli("--allow-verifier", evil_plugin(tmp_path), "data", "validate", str(data))
    assert result.exit_code == 0, result.output


def test_a_recipe_may_allow_a_plugin_for_every_command(cli, tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"allow_verifier: [{evil_plugin(tmp_path)}]\n", encoding="utf-8")
    result = cli("--config", str(recipe), "data", "validate", str(plugin_data(tmp_path)))
    assert result.exit_code == 0, result.output


def test_a_recipe_given_to_one_command_may_allow_a_plugin_too(cli, tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"allow_verifier: [{evil_plugin(tmp_path)}]\n", encoding="utf-8")
    result = cli("data", "validate", str(plugin_data(tmp_path)), "--config", str(recipe))
    assert result.exit_code == 0, result.output


def test_an_unreadable_model_file_is_named_as_unreadable(cli, tmp_path, tiny_model_dir, synth_file, monkeypatch):
    import mmrl.io.paths as paths

    real = os.access
    monkeypatch.setattr(paths.os, "access", lambda p, mode: False if str(p).endswith("config.json") and
                        mode == os.R_OK else real(p, mode))
    result = cli("rollout", "--data", synth_file, "--model", tiny_model_dir, "-o", str(tmp_path / "r.jsonl"))
    assert result.exit_code == 2, result.output
    assert "config.json: cannot read it: permission denied" in result.output


def test_library_scoring_refuses_code_named_by_a_record(tmp_path):
    from mmrl.rewards import RewardConfig, score_record

    out = score_record(draw(reward={"verifier": evil_plugin(tmp_path)}), RewardConfig(workers=0))
    assert "names code" in out["error"] and out["rewards"]["total"] == 0
    assert not marker(tmp_path).exists()


def test_overwrite_removes_what_the_earlier_run_wrote(tmp_path):
    from mmrl.io.paths import MANIFEST, claim_output_folder

    out = claim_output_folder(tmp_path / "run", ["summary.json", "model-*"], overwrite=False)
    (out / "summary.json").write_text("{}")
    (out / "model-rl").mkdir()
    (out / "model-rl" / "w.bin").write_bytes(b"x")
    again = claim_output_folder(out, ["summary.json", "model-*"], overwrite=True)
    assert sorted(p.name for p in again.iterdir()) == [MANIFEST]


def test_overwrite_never_follows_a_link_out_of_the_folder(tmp_path):
    from mmrl.io.paths import claim_output_folder

    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "keep.txt").write_text("keep")
    out = claim_output_folder(tmp_path / "run", ["model-rl"], overwrite=False)
    (out / "model-rl").symlink_to(precious)
    claim_output_folder(out, ["model-rl"], overwrite=True)
    assert (precious / "keep.txt").read_text() == "keep" and not (out / "model-rl").exists()


def test_a_folder_from_before_manifests_may_hold_only_the_run_s_own_names(tmp_path):
    from mmrl.io.paths import MANIFEST, claim_output_folder

    out = tmp_path / "run"
    out.mkdir()
    (out / "summary.json").write_text("{}")
    claim_output_folder(out, ["summary.json"], overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST]


def test_a_manifest_naming_a_path_is_not_trusted(tmp_path):
    from mmrl.errors import ConfigError
    from mmrl.io.paths import MANIFEST, claim_output_folder

    out = tmp_path / "run"
    out.mkdir()
    (out / "x").write_text("mine")
    (out / MANIFEST).write_text(json.dumps({"entries": ["../x", "x"]}))
    with pytest.raises(ConfigError, match="x, which mmrl did not write"):
        claim_output_folder(out, ["y"], overwrite=True)
    assert (out / "x").read_text() == "mine"


def test_plot_to_stdout_writes_the_png_there(cli, tmp_path):
    result = cli("plot", str(metrics(tmp_path, steps("0.1", "0.2"))), "-o", "-")
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes.startswith(b"\x89PNG") and not (Path.cwd() / "-").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_plot_into_a_read_only_folder_is_refused(cli, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    result = cli("plot", str(metrics(tmp_path, steps("0.1", "0.2"))), "-o", str(folder / "c.png"))
    assert result.exit_code == 2 and "cannot write" in result.output


def full_disk(monkeypatch) -> None:
    """Every file mmrl writes through a temporary file (images, plots, JSON) hits a full disk."""
    import mmrl.io.atomic as atomic

    real = os.fdopen

    class Full:
        def __init__(self, f):
            self.f = f

        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    monkeypatch.setattr(atomic.os, "fdopen", lambda fd, *a, **k: Full(real(fd, *a, **k)))


def test_plot_on_a_full_disk_is_a_clear_error_and_leaves_nothing(cli, tmp_path, monkeypatch):
    data = metrics(tmp_path, steps("0.1", "0.2"))
    full_disk(monkeypatch)
    result = cli("plot", str(data), "-o", str(tmp_path / "c.png"))
    assert result.exit_code == 2, result.output
    assert "c.png: cannot write: No space left on device (the disk is full" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.jsonl"]


def test_rollout_images_on_a_full_disk_are_a_clear_error_and_leave_nothing(tmp_path, monkeypatch):
    from mmrl.errors import DataError
    from mmrl.io.embedded import ImageFiles

    full_disk(monkeypatch)
    with pytest.raises(DataError, match="the disk is full"):
        ImageFiles(tmp_path).write(b"\x89PNG...", "s0")
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_the_demo_on_a_full_disk_is_a_clear_error(cli, tmp_path, monkeypatch):
    def full(self, *a, **k):
        raise OSError(errno.ENOSPC, "No space left on device", str(self))

    monkeypatch.setattr(Path, "write_text", full)
    result = cli("demo", "--quick", "--out", str(tmp_path / "demo"))
    assert result.exit_code == 2, result.output
    assert "commands.sh: cannot write: No space left on device (the disk is full" in result.output


def test_the_reward_pool_from_a_script_on_stdin_says_what_is_wrong(tmp_path):
    script = ("from mmrl.rewards import RewardConfig, RewardScorer\n"
              "with RewardScorer(RewardConfig(workers=1, start_method='spawn')) as s:\n"
              "    print(s.score([{'id': 'a', 'answer': '2', 'response': '<answer>2</answer>'}]))\n")
    run = subprocess.run([sys.executable, "-"], input=script, capture_output=True, text=True, cwd=tmp_path,
                         timeout=120)
    assert run.returncode != 0
    assert "cannot be read again" in run.stderr and "FileNotFoundError" not in run.stderr


def test_eval_split_picks_the_split_of_a_multi_split_eval_folder(cli, tmp_path, tiny_model_dir):
    """--split is --data's; an --eval-data folder holding several splits takes --eval-split."""
    args = ["grpo", "--model", tiny_model_dir, "--data", str(write_jsonl(tmp_path / "d.jsonl", [sample()])),
            "--eval-data", str(two_splits(tmp_path)), "--eval-split", "test", "--out", str(tmp_path / "rl"),
            "--max-steps", "1", "--batch-size", "1", "-G", "2", "--max-new-tokens", "2", "--reward-workers", "0",
            "--eval-steps", "1"]
    result = cli(*args)
    assert result.exit_code == 0, result.output
    rows = [json.loads(x) for x in (tmp_path / "rl" / "metrics.jsonl").read_text(encoding="utf-8").splitlines()]
    assert "eval/accuracy/mean" in rows[0]
