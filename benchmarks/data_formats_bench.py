"""Reading --data to the first rollout batch: a large Parquet file against the same data as JSONL.

Generates N sample rows (default one million), each with an image embedded as bytes (the
``Image`` feature's ``{bytes, path}`` struct, drawn from a pool of 100,000 small PNGs) and writes them
twice: as a Parquet file (row groups of ``--row-group`` rows) and as JSONL with the same images
as ``data:`` URIs. Each case then runs in a fresh process what ``mmrl rollout`` runs before the
model's first ``generate``: open the source, check every record streaming (ids unique, every
image opens, verifiers resolve), then stream the records into ``rollout_records`` until the first
batch of prompts (images decoded and resized) reaches the backend, a stub that stops there.
Reported per case: seconds to the first batch and the process's peak RSS, median and range of
``--repeats`` runs (interleaved, so machine load hits every case alike).

For contrast, ``jsonl, held`` reads the same JSONL the way rollout did before the loader streamed
(every checked record kept in a list, as ``read_all`` and SFT do), and ``imports only`` is the
RSS of the same process that reads nothing.

    python benchmarks/data_formats_bench.py                        # 1,000,000 rows, 3 repeats
    python benchmarks/data_formats_bench.py --rows 100000 --repeats 5 --dir /tmp/fmt
"""
from __future__ import annotations

import argparse
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CASES = ("imports only", "parquet", "jsonl", "jsonl, held")


class _FirstBatch(Exception):
    pass


class _StubBackend:
    """A backend whose first generate call ends the run: the time to it is the measurement."""

    name = "stub"

    def generate(self, prompts, params):
        raise _FirstBatch(len(prompts))

    def close(self):
        pass


def child(case: str, path: str) -> dict:
    """One measurement, in this (fresh) process."""
    from mmrl.io.samples import open_samples
    from mmrl.rollout.records import rollout_records
    from mmrl.rollout.types import SamplingParams

    start = time.perf_counter()
    out = {"case": case, "records": 0, "batch": 0}
    if case != "imports only":
        samples = open_samples(path)
        if case == "jsonl, held":
            items = samples.read_all()
            out["records"] = len(items)
        else:
            out["records"] = samples.check()
            items = iter(samples)
        out["check_s"] = time.perf_counter() - start
        try:
            for _ in rollout_records(items, _StubBackend(), SamplingParams(n=1, max_new_tokens=1)):
                pass
        except _FirstBatch as e:
            out["batch"] = e.args[0]
    out["seconds"] = time.perf_counter() - start
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM). Not ru_maxrss: Linux carries that across
    execve, so a child would report its parent's peak when the parent was larger."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _png_pool(count: int) -> list[bytes]:
    import random

    from PIL import Image

    rng, pool = random.Random(0), []
    for i in range(count):
        img = Image.new("RGB", (56, 56), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
        for _ in range(6):  # a few squares, so the images differ and compress like small drawings
            x, y = rng.randrange(48), rng.randrange(48)
            img.paste((rng.randrange(256), rng.randrange(256), rng.randrange(256)), (x, y, x + 8, y + 8))
        buf = io.BytesIO()
        img.save(buf, format="PNG")
        pool.append(buf.getvalue())
    return pool


def generate(folder: Path, rows: int, row_group: int, pool_size: int) -> tuple[Path, Path, int]:
    """The Parquet file and the JSONL file of the same ``rows`` samples (written in chunks)."""
    import base64

    import pyarrow as pa
    import pyarrow.parquet as pq

    pool = _png_pool(pool_size)
    uris = ["data:image/png;base64," + base64.b64encode(b).decode("ascii") for b in pool]
    parquet, jsonl = folder / "samples.parquet", folder / "samples.jsonl"
    schema = pa.schema([("id", pa.string()), ("question", pa.string()), ("answer", pa.string()),
                        ("source", pa.string()),
                        ("images", pa.list_(pa.struct([("bytes", pa.binary()), ("path", pa.string())])))])
    with pq.ParquetWriter(parquet, schema) as writer, open(jsonl, "w", encoding="utf-8") as out:
        for lo in range(0, rows, row_group):
            ids = range(lo, min(rows, lo + row_group))
            cols = {"id": [f"s{i}" for i in ids], "question": [f"<image>How many squares are there? ({i})" for i in ids],
                    "answer": [str(i % 7) for i in ids], "source": ["bench"] * len(ids),
                    "images": [[{"bytes": pool[i % pool_size], "path": f"{i % pool_size}.png"}] for i in ids]}
            writer.write_table(pa.table(cols, schema=schema))
            for k, i in enumerate(ids):
                out.write(json.dumps({"id": cols["id"][k], "question": cols["question"][k], "answer": cols["answer"][k],
                                      "source": "bench", "images": [uris[i % pool_size]]}) + "\n")
    return parquet, jsonl, sum(len(b) for b in pool) // pool_size


def measure(case: str, path: Path) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "MMRL_PROGRESS_SECONDS": "3600"}
    proc = subprocess.run([sys.executable, __file__, "--child", case, str(path)], capture_output=True, text=True,
                          env=env, cwd=Path(__file__).resolve().parent.parent)
    if proc.returncode != 0:
        raise SystemExit(f"{case}: failed\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _spread(values: list[float], fmt: str) -> str:
    return f"{format(statistics.median(values), fmt)} ({format(min(values), fmt)}–{format(max(values), fmt)})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--row-group", type=int, default=10_000, help="Parquet rows per row group (and per chunk written)")
    ap.add_argument("--pool", type=int, default=100_000,
                    help="distinct images embedded (rows cycle through them; above the 8192 verdicts the start-up "
                         "check caches, so every row's image is opened)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--dir", help="folder for the generated files (default: a temporary folder, removed)")
    ap.add_argument("--child", nargs=2, metavar=("CASE", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return

    tmp = None if args.dir else tempfile.TemporaryDirectory(prefix="mmrl-formats-")
    folder = Path(args.dir or tmp.name)
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    parquet, jsonl, image_bytes = generate(folder, args.rows, args.row_group, args.pool)
    print(f"{args.rows:,} rows, one embedded PNG each (~{image_bytes} bytes, {args.pool} distinct), generated in "
          f"{time.perf_counter() - started:.0f}s; parquet {parquet.stat().st_size / 2**20:.0f} MiB "
          f"(row groups of {args.row_group:,}), jsonl {jsonl.stat().st_size / 2**20:.0f} MiB; "
          f"load {os.getloadavg()[0]:.2f}", flush=True)
    paths = {"imports only": parquet, "parquet": parquet, "jsonl": jsonl, "jsonl, held": jsonl}
    runs: dict[str, list[dict]] = {c: [] for c in CASES}
    for _ in range(args.repeats):  # interleaved: a change of machine load hits every case
        for case in CASES:
            runs[case].append(measure(case, paths[case]))
    print(f"\nmedian (min–max) of {args.repeats} runs, each in a fresh process; load after {os.getloadavg()[0]:.2f}\n")
    print("| case | records | check (s) | to first batch (s) | peak RSS (MiB) |")
    print("|---|---:|---:|---:|---:|")
    for case in CASES:
        rs = runs[case]
        check, first = "–", "–"
        if "check_s" in rs[0]:
            check, first = _spread([r["check_s"] for r in rs], ".1f"), _spread([r["seconds"] for r in rs], ".1f")
        print(f"| {case} | {rs[0]['records']:,} | {check} | {first} | {_spread([r['peak_rss_mb'] for r in rs], '.0f')} |")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
