"""The benchmark script's pieces that are not timings: FLOP count, correctness check, report."""

import importlib.util
import json
from pathlib import Path

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent.parent / "benchmarks"


def load(name):
    spec = importlib.util.spec_from_file_location(name, BENCH_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_flop_count_is_three_times_the_forward_products():
    bench = load("bench_gru")
    t, b, d, h = 7, 5, 3, 4
    forward_products = [(b, d, 3 * h), (b, h, 2 * h), (b, h, h)]  # x W_x, h [W_hz|W_hr], (r h) W_hh
    forward = t * sum(2 * m * k * n for m, k, n in forward_products)
    assert bench.gru_flops(t, b, d, h) == 3 * forward


def test_correctness_check_passes_and_the_loop_agrees_with_gru_lib():
    bench = load("bench_gru")
    lines = bench.check_correctness()  # raises if the loop's gradients differ from gru_lib's
    assert any("loop vs gru_lib (reset_after=False)" in line for line in lines)


def test_markdown_report_has_a_row_per_measurement(capsys):
    bench = load("bench_gru")
    results_file = BENCH_DIR / "results.json"
    results = json.loads(results_file.read_text())
    bench.main(["--report", str(results_file)])
    report = capsys.readouterr().out
    rows = [line for line in report.splitlines() if line.startswith("| ") and "---" not in line
            and not line.startswith("| size")]
    expected = sum(len(entry[dtype]) for run in results["runs"]
                   for entry in run["sizes"].values() for dtype in ("float32", "float64"))
    assert len(rows) == expected
    torch_rows = [row for row in rows if "| torch |" in row]
    assert torch_rows and all("| 1.00 |" in row for row in torch_rows)
    assert np.all([f"### {run['threads']} thread" in report for run in results["runs"]])


def test_readme_tables_are_the_report_of_results_json(capsys):
    # The figures in benchmarks/README.md are the saved run's, not typed by hand.
    bench = load("bench_gru")
    bench.main(["--report", str(BENCH_DIR / "results.json")])
    readme = (BENCH_DIR / "README.md").read_text()
    missing = [line for line in capsys.readouterr().out.splitlines()
               if line.strip() and line not in readme]
    assert not missing, missing[:3]
