"""Validation of records against shared/SPEC.md.

Each check returns every problem it finds as ``(field, reason)`` pairs, so that
``mmrl data validate`` can list them all; readers of a single subcommand raise on the first.
The record kind (sample, rollout, scored, graded) is inferred from the fields present unless
given, since a scored rollout is also a valid rollout and sample.
"""
from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mmrl.errors import DataError, location, position
from mmrl.io.jsonl import Located, Record

# A check of one record from a layer above (the reward spec): its (field, reason) problems.
RecordCheck = Callable[[Record], list[tuple[str, str]]]

KINDS = ("sample", "rollout", "scored", "graded")
FINISH_REASONS = ("stop", "length", "forced")


@dataclass(frozen=True)
class Problem:
    field: str
    reason: str


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _is_box(v: Any) -> bool:
    return isinstance(v, list) and len(v) == 4 and all(_is_number(x) for x in v)


def _check_answer(v: Any) -> Iterator[Problem]:
    if isinstance(v, (str, bool)) or _is_number(v):
        return
    if isinstance(v, list):
        for i, item in enumerate(v):
            if isinstance(item, dict):
                if "box" in item and not _is_box(item["box"]):
                    yield Problem(f"answer[{i}].box", "must be [x1, y1, x2, y2] numbers")
                if "label" in item and not isinstance(item["label"], str):
                    yield Problem(f"answer[{i}].label", "must be a string")
            elif not (isinstance(item, str) or _is_number(item) or isinstance(item, list)):
                yield Problem(f"answer[{i}]", f"unsupported type {type(item).__name__}")
        return
    yield Problem("answer", f"must be a string, number or list, got {type(v).__name__}")


def _check_reward_spec(v: Any) -> Iterator[Problem]:
    if not isinstance(v, dict):
        yield Problem("reward", "must be an object {verifier, weights, params}")
        return
    if "verifier" in v and not isinstance(v["verifier"], str):
        yield Problem("reward.verifier", "must be a string")
    weights = v.get("weights")
    if weights is not None:
        if not isinstance(weights, dict):
            yield Problem("reward.weights", "must be an object {component: weight}")
        else:
            for k, w in weights.items():
                if not _is_number(w):
                    yield Problem(f"reward.weights.{k}", "must be a finite number")
    if "params" in v and not isinstance(v["params"], dict):
        yield Problem("reward.params", "must be an object")


def check_image_ref(ref: Any, base_dir: Path | None) -> str | None:
    """Why an image reference is unusable, or None. URLs are not fetched here."""
    if not isinstance(ref, str) or not ref:
        return "must be a non-empty string"
    if ref.startswith("data:"):
        return None if ";base64," in ref[:100] else "data URI must be base64 (data:image/...;base64,...)"
    if ref.startswith(("http://", "https://")):
        return None
    path = Path(ref)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if not path.is_file():
        return f"image file not found: {path}"
    return None


def check_sample(r: Record, base_dir: Path | None = None) -> list[Problem]:
    """Section 1 of SPEC.md: the sample fields."""
    out: list[Problem] = []
    if "id" not in r:
        out.append(Problem("id", "required field is missing"))
    elif not isinstance(r["id"], str) or not r["id"]:
        out.append(Problem("id", f"must be a non-empty string, got {type(r['id']).__name__}"))
    if "question" not in r and "messages" not in r:
        out.append(Problem("question", "required field is missing (or give messages)"))
    if "question" in r and not isinstance(r["question"], str):
        out.append(Problem("question", f"must be a string, got {type(r['question']).__name__}"))
    if "images" in r:
        imgs = r["images"]
        if not isinstance(imgs, list):
            out.append(Problem("images", "must be a list of paths or data URIs"))
        else:
            for i, ref in enumerate(imgs):
                why = check_image_ref(ref, base_dir)
                if why:
                    out.append(Problem(f"images[{i}]", why))
    if "answer" in r:
        out.extend(_check_answer(r["answer"]))
    if "choices" in r:
        c = r["choices"]
        if not isinstance(c, list) or not all(isinstance(x, str) for x in c):
            out.append(Problem("choices", "must be a list of strings"))
        elif len(c) < 2:
            out.append(Problem("choices", "needs at least two options"))
    if "source" in r and not isinstance(r["source"], str):
        out.append(Problem("source", "must be a string"))
    if "reward" in r:
        out.extend(_check_reward_spec(r["reward"]))
    if "key_steps" in r:
        ks = r["key_steps"]
        if not isinstance(ks, list) or not all(isinstance(s, (str, list)) for s in ks):
            out.append(Problem("key_steps", "must be a list of strings (or lists of alternative strings)"))
    if "difficulty" in r and not (_is_number(r["difficulty"]) and 0.0 <= r["difficulty"] <= 1.0):
        out.append(Problem("difficulty", "must be a number in [0, 1]"))
    if "response" in r and not isinstance(r["response"], str):
        out.append(Problem("response", "must be a string"))
    if "messages" in r:
        out.extend(_check_messages(r["messages"]))
    if "meta" in r and not isinstance(r["meta"], dict):
        out.append(Problem("meta", "must be an object"))
    return out


def _check_messages(msgs: Any) -> Iterator[Problem]:
    if not isinstance(msgs, list) or not msgs:
        yield Problem("messages", "must be a non-empty list of {role, content}")
        return
    for i, m in enumerate(msgs):
        if not isinstance(m, dict):
            yield Problem(f"messages[{i}]", "must be an object {role, content}")
            continue
        if m.get("role") not in ("system", "user", "assistant"):
            yield Problem(f"messages[{i}].role", "must be system, user or assistant")
        if not isinstance(m.get("content"), str):
            yield Problem(f"messages[{i}].content", "must be a string")


def check_rollout(r: Record, required: bool = True) -> list[Problem]:
    """Section 2 of SPEC.md: the fields a rollout adds (``required=False``: only those present)."""
    out: list[Problem] = []
    for name, typ, label in (("sample", int, "an integer"), ("response", str, "a string"),
                             ("num_tokens", int, "an integer"), ("model", str, "a string")):
        if name not in r:
            if required:
                out.append(Problem(name, "required field is missing"))
        elif not isinstance(r[name], typ) or isinstance(r[name], bool):
            out.append(Problem(name, f"must be {label}, got {type(r[name]).__name__}"))
    if isinstance(r.get("sample"), int) and r["sample"] < 0:
        out.append(Problem("sample", "must be >= 0"))
    fr = r.get("finish_reason")
    if fr is None:
        if required:
            out.append(Problem("finish_reason", "required field is missing"))
    elif fr not in FINISH_REASONS:
        out.append(Problem("finish_reason", f"must be one of {', '.join(FINISH_REASONS)}, got {fr!r}"))
    return out


def draw_key_errors(items: Iterable[Located]) -> Iterator[DataError]:
    """What identifies each draw downstream (grade groups by it): ``id`` a non-empty string, the
    rollout fields present of their SPEC types, no (id, sample) twice. For readers of rollouts
    that are lenient about which rollout fields are there (reward), so that they refuse at
    start-up what grade would refuse later. A missing ``sample`` counts as draw 0 (as resume does)."""
    seen: dict[tuple[str, Any], str] = {}
    for item in items:
        r, rid = item.record, item.record.get("id")
        if "id" not in r:
            yield item.error("required field is missing", "id")
        elif not isinstance(rid, str) or not rid:
            yield item.error(f"must be a non-empty string, got {type(rid).__name__}", "id")
        for p in check_rollout(r, required=False):
            yield item.error(p.reason, p.field)
        if isinstance(rid, str) and isinstance(r.get("sample", 0), int):
            key = (rid, r.get("sample", 0))
            if key in seen:
                yield item.error(f"duplicate draw {key[1]} of id {rid!r} (first on {seen[key]})", "sample")
            seen.setdefault(key, item.where)


def check_scored(r: Record) -> list[Problem]:
    """Section 3 of SPEC.md: the fields reward adds."""
    out: list[Problem] = []
    if "extracted" not in r:
        out.append(Problem("extracted", "required field is missing"))
    elif r["extracted"] is not None and not isinstance(r["extracted"], str):
        out.append(Problem("extracted", "must be a string or null"))
    rw = r.get("rewards")
    if not isinstance(rw, dict):
        out.append(Problem("rewards", "required object is missing"))
    else:
        for comp in ("accuracy", "format", "style", "total"):
            if comp not in rw:
                out.append(Problem(f"rewards.{comp}", "required component is missing"))
        for comp, v in rw.items():
            if not _is_number(v):
                out.append(Problem(f"rewards.{comp}", "must be a finite number"))
    if "error" in r:
        if not isinstance(r["error"], str):
            out.append(Problem("error", "must be a string"))
        elif isinstance(rw, dict) and rw.get("total") not in (0, 0.0):
            out.append(Problem("rewards.total", "must be 0 when error is set"))
    return out


def check_graded(r: Record) -> list[Problem]:
    """Section 4 of SPEC.md: the fields grade adds."""
    out: list[Problem] = []
    for name in ("n", "correct"):
        if not isinstance(r.get(name), int) or isinstance(r.get(name), bool):
            out.append(Problem(name, "required integer is missing or not an integer"))
    if isinstance(r.get("n"), int) and isinstance(r.get("correct"), int) and not 0 <= r["correct"] <= r["n"]:
        out.append(Problem("correct", "must be between 0 and n"))
    pk = r.get("pass_at_k")
    if not isinstance(pk, dict) or not all(_is_number(v) and 0 <= v <= 1 for v in pk.values()):
        out.append(Problem("pass_at_k", "must be an object {k: probability}"))
    if not _is_number(r.get("mean_reward")):
        out.append(Problem("mean_reward", "required number is missing"))
    if "difficulty" not in r:
        out.append(Problem("difficulty", "required field is missing"))
    return out


def infer_kind(r: Record) -> str:
    if "pass_at_k" in r or ("n" in r and "correct" in r):
        return "graded"
    if "rewards" in r:
        return "scored"
    if "finish_reason" in r or "sample" in r:
        return "rollout"
    return "sample"


def check_record(r: Record, base_dir: Path | None = None, kind: str | None = None,
                 references: str | None = None, checks: Sequence[RecordCheck] = ()) -> list[Problem]:
    """Every problem of one record, as the kind it claims to be (inferred when not given).

    ``references`` also checks what the record refers to (``mmrl.io.references``), and runs
    ``checks`` (the reward spec's, ``mmrl.rewards.spec``): ``verify``
    (images open, verifier names resolve: what commands check at start-up) or ``decode`` (every
    image decoded too: ``mmrl data validate``).
    """
    kind = kind or infer_kind(r)
    if kind not in KINDS:
        raise ValueError(f"unknown record kind {kind!r}; expected one of {KINDS}")
    out = check_sample(r, base_dir)
    if kind in ("rollout", "scored"):
        out += check_rollout(r)
    if kind == "scored":
        out += check_scored(r)
    if kind == "graded":
        out += check_graded(r)
    if references is not None:
        from mmrl.io.references import reference_problems

        out += [Problem(f, why) for f, why in reference_problems(r, base_dir, references)]
        out += [Problem(f, why) for check in checks for f, why in check(r)]
    return out


def base_dir_of(src: str | os.PathLike, image_root: str | os.PathLike | None = None) -> Path | None:
    """Folder that relative image paths of a file are resolved against: the file's folder; for
    stdin (and stdout) the current folder, or ``image_root`` when given (``--image-root``)."""
    if str(src) == "-":
        return Path(image_root).resolve() if image_root is not None else Path.cwd()
    return Path(src).resolve().parent


def rebase_images(record: dict[str, Any], src_dir: Path | None, dst_dir: Path | None) -> dict[str, Any]:
    """The record with its relative image paths rewritten to stay valid beside an output in another
    folder: the one rule of every command that reads and writes records with images. Relative paths
    resolve against the input's folder (``base_dir_of``) and are rewritten for the output's."""
    images = record.get("images")
    if not images or not isinstance(images, list) or src_dir is None or dst_dir is None or src_dir == dst_dir:
        return record
    out = []
    for ref in images:
        if isinstance(ref, str) and ref and not ref.startswith(("data:", "http://", "https://")) \
                and not os.path.isabs(ref):
            ref = os.path.relpath(src_dir / ref, dst_dir)
        out.append(ref)
    return {**record, "images": out}


class RecordChecker:
    """Every problem of one record after another (and ids seen twice): what ``validate_located``
    does for a stream of records. Only the ids are remembered, so memory grows with the number of
    records by an id each, never by the records."""

    def __init__(self, base_dir: Path | None, kind: str | None = None, unique_ids: bool = True,
                 references: str | None = None, checks: Sequence[RecordCheck] = ()):
        self.base_dir, self.kind, self.unique_ids, self.references = base_dir, kind, unique_ids, references
        self.checks = tuple(checks)
        # id -> where it was first seen, packed in one int (line * files + file): the one thing
        # kept per record, so it is kept small
        self._seen: dict[Any, int] = {}
        self._files: dict[tuple[str, str], int] = {}
        self._names: list[tuple[str, str]] = []

    def __call__(self, item: Located) -> list[DataError]:
        found = [item.error(p.reason, p.field)
                 for p in check_record(item.record, self.base_dir, self.kind, self.references, self.checks)]
        rid = item.record.get("id")
        if self.unique_ids and isinstance(rid, str):
            per_draw = (self.kind or infer_kind(item.record)) in ("rollout", "scored")
            key = (rid, item.record.get("sample")) if per_draw else rid
            first = self._seen.get(key)
            if first is not None:
                what = f"duplicate id {rid!r}" + (f" with sample {key[1]}" if per_draw else "")
                found.append(item.error(f"{what} (first on {self._where(first, item)})", "id"))
            else:
                self._seen[key] = self._pack(item)
        return found

    _FILES = 1 << 20  # files of one source told apart (a folder of Parquet shards); beyond, only messages blur

    def _pack(self, item: Located) -> int:
        name = (item.path, item.unit)
        index = self._files.get(name)
        if index is None:
            index = self._files[name] = len(self._names)
            self._names.append(name)
        return item.line * self._FILES + index

    def _where(self, packed: int, item: Located) -> str:
        line, index = divmod(packed, self._FILES)
        path, unit = self._names[index]
        return position(line, unit) if path == item.path else location(path, line, unit)


def validate_located(items: Iterable[Located], base_dir: Path | None, kind: str | None = None,
                     unique_ids: bool = True, references: str | None = None) -> Iterator[DataError]:
    """Yield a DataError for every problem of every record (and duplicate ids)."""
    check = RecordChecker(base_dir, kind, unique_ids, references)
    for item in items:
        yield from check(item)


def validate_file(src: str | os.PathLike, kind: str | None = None, references: str | None = "decode",
                  split: str | None = None, columns: dict[str, str] | None = None,
                  checks: Sequence[RecordCheck] = ()) -> tuple[int, list[DataError]]:
    """Check a whole source; returns (records read, problems). Unparseable lines are problems too.

    By default as strictly as anything can be checked without a model: every image is decoded
    and every verifier name resolved (``references=None``: the record structure only). Any
    source ``mmrl.io.samples`` reads: JSONL, Parquet, dataset folders (``split``, ``columns``).
    """
    from mmrl.io.samples import validate_source

    return validate_source(src, kind, references, split, columns, checks)


def require_valid(item: Located, kind: str = "sample", base_dir: Path | None = None) -> Record:
    """Raise the first problem of a record as a DataError; return the record when clean."""
    problems = check_record(item.record, base_dir, kind)
    if problems:
        p = problems[0]
        raise item.error(p.reason, p.field)
    return item.record
