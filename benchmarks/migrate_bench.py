"""Benchmark: migrating a 1,000-line Prefect flow file with graflow-migrate (target <= 1 s).

The file is generated deterministically: tasks with retries/delay lists/timeouts, and flows
that chain calls with data dependencies, ``.submit()`` fan-outs with ``wait_for``, ``.map()``
with ``unmapped``, subflow calls, ``if`` branches and logging. Each repeat converts it in a
fresh call (the libcst import is paid once, before timing, as in a warm CLI process it is not:
the cold number is reported separately).

Run: ``.venv/bin/python benchmarks/migrate_bench.py [--lines 1000] [--repeat 7]``; prints JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def generate(lines: int = 1000) -> str:
    """A valid Prefect module of about ``lines`` lines (same text for the same argument)."""
    out = [
        '"""Generated Prefect flows for the graflow-migrate benchmark."""',
        "",
        "from prefect import flow, get_run_logger, task, unmapped",
        "",
    ]
    index = 0
    while len(out) < lines:
        i = index
        out += [
            "",
            f"@task(retries={i % 4}, retry_delay_seconds=[1, 2, {4 + i % 3}], timeout_seconds=60)",
            f"def extract_{i}(source: str, limit: int = 10) -> list[int]:",
            f'    """Read batch {i}."""',
            "    return list(range(limit))",
            "",
            "",
            f'@task(name="transform-{i}")',
            f"def transform_{i}(rows: list[int], factor: int) -> list[int]:",
            "    logger = get_run_logger()",
            '    logger.info("transforming %d rows", len(rows))',
            "    return [r * factor for r in rows]",
            "",
            "",
            "@task",
            f"def score_{i}(row: int, weight: float) -> float:",
            "    return row * weight",
            "",
            "",
            "@task",
            f"def load_{i}(rows: list[int], scores: list[float]) -> dict:",
            '    return {"rows": len(rows), "score": sum(scores)}',
            "",
            "",
            f'@flow(name="pipeline-{i}", log_prints=True)',
            f'def pipeline_{i}(source: str = "s3://b/{i}", factor: int = 2, weight: float = 0.5):',
            "    logger = get_run_logger()",
            f"    raw = extract_{i}(source)",
            f"    left = transform_{i}.submit(raw, factor)",
            f"    right = transform_{i}.submit(raw, factor + 1)",
            f"    both = transform_{i}(raw, 3, wait_for=[left, right])",
            f"    scores = score_{i}.map(both, unmapped(weight))",
            "    if factor > 1:",
            f"        result = load_{i}(left.result(), scores)",
            "    else:",
            f"        result = load_{i}(right.result(), scores)",
            '    logger.info("done %s", result)',
            "    return result",
            "",
        ]
        index += 1
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    text = generate(args.lines)
    n_lines = len(text.splitlines())
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "flows.py"
        src.write_text(text, encoding="utf-8")
        out = Path(tmp) / "flows_graflow.py"
        # cold: the whole CLI in a fresh process (interpreter, imports, conversion)
        cold = []
        for _ in range(3):
            start = time.perf_counter()
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "graflow_migrate.cli",
                    "prefect",
                    str(src),
                    "-o",
                    str(out),
                    "--report",
                    str(Path(tmp) / "report.txt"),
                ],
                check=True,
            )
            cold.append(time.perf_counter() - start)
        from graflow_migrate import migrate_source

        migrate_source(text, "prefect", path=str(src))  # warm the imports
        warm = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            result = migrate_source(text, "prefect", path=str(src))
            warm.append(time.perf_counter() - start)
        compile(result.code, str(out), "exec")
    print(
        json.dumps(
            {
                "benchmark": "migrate_prefect_file",
                "lines": n_lines,
                "median_s": round(statistics.median(warm), 4),
                "min_s": round(min(warm), 4),
                "cli_cold_median_s": round(statistics.median(cold), 4),
                "target_s": 1.0,
                "findings": len(result.report.findings),
                "converted": result.report.converted,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
