"""``mmrl recipe run``: a recipe's chain, stage by stage, each in its own folder of OUT, resumable.

Everything is checked before the first stage starts: the recipe files, the scale overlay, each
``--set``, and that every stage has its inputs. Each stage then writes ``OUT/STAGE/settings.yaml``
(the settings it is given, each line saying where its value came from) and runs the same command
a user would type (``mmrl --config OUT/STAGE/settings.yaml STAGE ...``), in this process, through
``Commands.run``. ``OUT/STAGE/stage.json`` records its fingerprint: a stage done with the same
fingerprint is skipped; a stopped stage with the same fingerprint resumes (``--resume``: a training
stage from its last checkpoint, rollout, reward and eval keep the records they wrote); any other
stage starts again in an emptied folder.
"""
from __future__ import annotations

import json
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from mmrl.errors import ConfigError, MmrlError
from mmrl.recipes.chain import Stage, parse_chain
from mmrl.recipes.document import Recipe
from mmrl.recipes.fingerprint import path_digest, stage_fingerprint
from mmrl.recipes.params import check_recipe_params
from mmrl.recipes.resolve import (
    SCALE_PAPER,
    Override,
    Setting,
    explicit,
    parse_set,
    resolve_section,
    scale_overlay,
)
from mmrl.recipes.schema import ALLOW_VERIFIER, CHAIN, Schema, check_sections
from mmrl.recipes.settings_file import settings_yaml
from mmrl.recipes.wiring import RESUMABLE, TRAINING, Invocations, State, invocations

STAGE_FILE = "stage.json"
SETTINGS_FILE = "settings.yaml"
INTERRUPTED = 130


class Commands(Protocol):
    """The commands a stage runs (the command line provides them)."""

    @property
    def schema(self) -> Schema: ...

    def run(self, command: tuple[str, ...], settings: Path, args: list[str]) -> int: ...


class StageFailed(MmrlError):
    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class RunRequest:
    recipe: Recipe
    model: str
    out: Path
    data: str | None = None
    eval_data: str | None = None
    sets: Sequence[str] = ()
    scale: str = SCALE_PAPER


@dataclass
class PlannedStage:
    index: int
    stage: Stage
    settings: dict[str, Setting]
    folder: Path


@dataclass
class RunResult:
    out: Path
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def plan(request: RunRequest, schema: Schema) -> list[PlannedStage]:
    """Every stage with its resolved settings; every error a run could meet before its first
    stage (unknown sections, keys, stages, --set targets, missing inputs) raised here."""
    overrides = [parse_set(text, schema) for text in request.sets]
    stages = parse_chain(request.recipe, request.scale)
    checked: set[Path] = set()
    for stage in stages:
        if stage.recipe.path not in checked:
            checked.add(stage.recipe.path)
            check_sections(stage.recipe, schema)
            check_recipe_params(stage.recipe)
            scale_overlay(stage.recipe, request.scale, schema)
    _check_targets(overrides, stages)
    planned = [PlannedStage(i, s, resolve_section(s.section, schema, s.recipe, request.scale, overrides),
                            request.out / s.kind) for i, s in enumerate(stages, 1)]
    state = _start(request)
    for p in planned:  # a dry pass: each stage finds its inputs
        try:
            inv = invocations(p.stage.kind, p.folder, state, explicit(p.settings), request.recipe.name)
        except ConfigError as e:
            raise ConfigError(f"{request.recipe.where((CHAIN,))}: {e}") from None
        _advance(state, inv)
    return planned


def _check_targets(overrides: Sequence[Override], stages: Sequence[Stage]) -> None:
    sections = {s.section for s in stages}
    for o in overrides:
        if o.section not in sections:
            raise ConfigError(f"--set {o.text!r}: the chain has no stage with section {'.'.join(o.section)!r} "
                              f"(stages: {', '.join(s.kind for s in stages)})")


def _start(request: RunRequest) -> State:
    return State(model=request.model, first_model=request.model, train=request.data, test=request.eval_data)


def _advance(state: State, inv: Invocations) -> None:
    for key, value in inv.after.items():
        setattr(state, key, value)


def run_recipe(request: RunRequest, commands: Commands) -> RunResult:
    from mmrl.console import console

    schema = commands.schema
    planned = plan(request, schema)
    if request.out.exists() and not request.out.is_dir():
        raise ConfigError(f"--out {request.out} exists and is not a folder")
    _check_apart(request)
    request.out.mkdir(parents=True, exist_ok=True)
    state = _start(request)
    fingerprints: dict[str, str] = {}   # output path -> fingerprint of the stage that wrote it
    result = RunResult(request.out)
    total = len(planned)
    for p in planned:
        kind = p.stage.kind
        given = explicit(p.settings)
        inv = invocations(kind, p.folder, state, given, request.recipe.name)
        names = " → ".join(f"[bold]{q.stage.kind}[/]" if q is p else q.stage.kind for q in planned)
        console.rule(f"stage {p.index}/{total}: {kind}", style="cyan")
        console.print(names, highlight=False)
        if inv.skipped:
            console.print(f"{kind}: nothing to do ({inv.skipped})", highlight=False)
            result.skipped.append(kind)
            _advance(state, inv)
            continue
        inputs = {path: fingerprints.get(path) or path_digest(path) for path in inv.inputs}
        fp = stage_fingerprint(p.stage.command, given, inv.lines, inputs)
        record = _read_record(p.folder)
        if record.get("fingerprint") == fp and record.get("state") == "done" and _outputs_exist(inv):
            console.print(f"{kind}: done before with the same settings and inputs; kept ({p.folder})",
                          highlight=False, markup=False)
            result.skipped.append(kind)
        else:
            seconds = _run_stage(p, inv, record, fp, request, commands)
            result.ran.append(kind)
            result.seconds[kind] = seconds
            console.print(f"[green]✓[/] {kind} ({seconds:.1f}s)", highlight=False)
        for path in inv.after.values():
            fingerprints[path] = fp
        result.metrics.extend(m for m in inv.metrics if Path(m).is_file())
        _advance(state, inv)
    return result


def _run_stage(p: PlannedStage, inv: Invocations, record: dict[str, Any], fp: str, request: RunRequest,
               commands: Commands) -> float:
    """Run one stage's command lines (recorded as running, then done); its seconds."""
    from rich.markup import escape

    from mmrl.console import console

    lines = _prepare(p, inv, record, fp)
    started = time.monotonic()
    settings = p.folder / SETTINGS_FILE
    _write_record(p.folder, {"stage": p.stage.kind, "fingerprint": fp, "state": "running"})
    settings.write_text(settings_yaml(p.stage.section, p.settings, request.recipe.data.get(ALLOW_VERIFIER),
                                      p.stage.kind), encoding="utf-8")
    for line in lines:
        shown = " ".join(["mmrl", "--config", str(settings), *p.stage.command, *line])
        console.print(f"[dim]$ {escape(shown)}[/]", highlight=False)
        code = commands.run(p.stage.command, settings, line)
        if code:
            raise _failure(p.stage.kind, code, request.out)
    seconds = time.monotonic() - started
    _write_record(p.folder, {"stage": p.stage.kind, "fingerprint": fp, "state": "done", "seconds": round(seconds, 3),
                             "commands": [[*p.stage.command, *line] for line in lines]})
    return seconds


def _check_apart(request: RunRequest) -> None:
    """The run folder neither holds an input (a stage folder may be emptied) nor lies inside one."""
    out = request.out.resolve()
    for flag, given in (("--model", request.model), ("--data", request.data), ("--eval-data", request.eval_data)):
        if given is None or not Path(given).exists():
            continue
        path = Path(given).resolve()
        if path == out or out in path.parents or path in out.parents:
            raise ConfigError(f"--out {request.out} and {flag} {given} overlap: give a run folder apart from "
                              "the inputs (a stage folder is emptied when its stage runs again)")


def _prepare(p: PlannedStage, inv: Invocations, record: dict[str, Any], fp: str) -> list[list[str]]:
    """The command lines to run now: a stopped training stage with the same fingerprint resumes
    from its checkpoint; otherwise the folder (made by an earlier run of this stage) is emptied."""
    folder = p.folder
    if folder.exists() and any(folder.iterdir()) and not record:
        raise ConfigError(f"{folder} exists and was not written by 'mmrl recipe run' (no {STAGE_FILE}); "
                          "give another --out or move it away")
    kind = p.stage.kind
    stopped = record.get("fingerprint") == fp and record.get("state") == "running"
    if stopped and kind in RESUMABLE and (kind not in TRAINING or _has_checkpoint(folder)):
        from mmrl.console import log

        log.info("%s: resuming from %s in %s", kind, "its last checkpoint" if kind in TRAINING else "what it wrote",
                 folder)
        return [[*line, "--resume"] for line in inv.lines]
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return inv.lines


def _outputs_exist(inv: Invocations) -> bool:
    """A finished stage whose outputs were since removed runs again."""
    return all(Path(path).exists() for path in inv.after.values())


def _has_checkpoint(folder: Path) -> bool:
    """A complete checkpoint to resume from (a save cut short leaves only its staging folder)."""
    from mmrl.train.checkpoint import list_checkpoints

    return bool(list_checkpoints(folder))


def _read_record(folder: Path) -> dict[str, Any]:
    path = folder / STAGE_FILE
    if not path.is_file():
        return {}
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"state": "unreadable"}
    return record if isinstance(record, dict) else {"state": "unreadable"}


def _write_record(folder: Path, record: dict[str, Any]) -> None:
    from mmrl.io.metrics import write_json

    write_json(folder / STAGE_FILE, record)


def _failure(kind: str, code: int, out: Path) -> StageFailed:
    if code == INTERRUPTED:
        return StageFailed(f"stage {kind} was interrupted; run the same command again to resume (finished "
                           f"stages in {out} are kept, a training stage continues from its checkpoint)", code)
    return StageFailed(f"stage {kind} failed (exit {code}); fix what it reported and run the same command "
                       f"again: finished stages in {out} are kept", code)
