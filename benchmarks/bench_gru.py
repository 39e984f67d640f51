"""How fast is a NumPy GRU? Forward + backward time of three implementations, side by side.

    python benchmarks/bench_gru.py                 # full run, 1 and 2 threads (about 20 min)
    python benchmarks/bench_gru.py --quick         # small sizes, a few repetitions (a few seconds)
    python benchmarks/bench_gru.py --threads 1 --json results.json
    python benchmarks/bench_gru.py --report results.json   # a saved run as Markdown tables

Implementations (all compute hidden states, input gradients and every parameter gradient):

- ``loop``: ``benchmarks/loop_gru.py``, one example and one step at a time with matrix-vector
  products (the algorithm of the notebook the book grew from, gradients fixed);
- ``fast cho`` and ``fast after``: ``gru_lib.fast`` (the fast path) with ``reset_after=False``
  / ``True``; ``reference cho`` and ``reference after``: ``gru_lib.gru`` (the readable
  reference path, a loop of single steps);
- ``torch``: ``torch.nn.GRU`` (reset-after, like ``fast after``), when torch is importable.

Every figure is the median of repeated runs, the implementations interleaved in one process so
that a slow moment of the machine hits them all. The loop is timed on a few sequences only at the
larger sizes and scaled to the full batch (its time is linear in B); such rows say "extrap.".
"""

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loop_gru import loop_forward_backward, max_gradient_difference  # noqa: E402

from gru_lib import fast, gru  # noqa: E402
from gru_lib.params import init_gru_params  # noqa: E402
from gru_lib.train import train_sentiment  # noqa: E402

try:
    from threadpoolctl import threadpool_info, threadpool_limits
except ImportError:  # the benchmark still runs, with whatever threads BLAS picked
    threadpool_info, threadpool_limits = None, None

try:
    import torch
except ImportError:
    torch = None

# (name, T, B, D, H). "sentiment" is the book's task: 58 training sentences in one full batch,
# padded to the longest (10 words), 16-dimensional word vectors, 64 hidden units (the defaults of
# gru_lib.train.train_sentiment).
SIZES = [("sentiment", 10, 58, 16, 64), ("medium", 50, 64, 64, 256),
         ("large", 100, 256, 128, 512)]
QUICK_SIZES = [("sentiment", 10, 58, 16, 64), ("small", 20, 32, 32, 128)]


def gru_flops(t_steps, batch, input_size, hidden_size):
    """GEMM floating-point operations of one forward + backward pass over a sequence.

    A product of (m, k) and (k, n) costs 2 m k n operations (a multiply and an add each). One
    forward step multiplies the inputs (B, D) by the three input weights (D, 3H) and the state
    (B, H) by the three recurrent weights (H, 3H), whatever the variant (Cho's reset-before form
    does its third recurrent product separately, on r * h, with the same shape):

        forward per step  = 2 B D 3H + 2 B H 3H

    The backward pass does two products of the same size for each forward one (the gradient with
    respect to the left operand and with respect to the right one), so forward + backward is
    three times the forward count, times T. Elementwise work (gates, tanh, products with z and
    r) is O(B H) per step, not counted: it is what separates the achieved GFLOP/s from the GEMM
    peak.
    """
    forward_step = (2 * batch * input_size * 3 * hidden_size
                    + 2 * batch * hidden_size * 3 * hidden_size)
    return 3 * t_steps * forward_step


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def gemm_gflops(m, k, n, dtype, repeats):
    """Achieved GFLOP/s of NumPy's (m, k) @ (k, n) product: the median of ``repeats`` runs."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    out = np.empty((m, n), dtype)
    np.matmul(a, b, out=out)  # warm up
    inner = max(1, int(2e8 // (2 * m * k * n)))  # at least about 0.2 GFLOP per timing
    seconds = median_time(lambda: [np.matmul(a, b, out=out) for _ in range(inner)], repeats)
    return 2 * m * k * n * inner / seconds / 1e9


def make_problem(t_steps, batch, input_size, hidden_size, dtype, seed=0):
    rng = np.random.default_rng(seed)
    xs = rng.standard_normal((t_steps, batch, input_size)).astype(dtype)
    h0 = np.zeros((batch, hidden_size), dtype)
    dhs = (rng.standard_normal((t_steps, batch, hidden_size)) / np.sqrt(batch)).astype(dtype)
    return xs, h0, dhs


def torch_runner(params, xs, h0, dhs):
    """A function that runs torch.nn.GRU forward + backward on the same data and weights."""
    dtype = {np.float32: torch.float32, np.float64: torch.float64}[xs.dtype.type]
    gru = torch.nn.GRU(params.input_size, params.hidden_size, dtype=dtype)
    weight_ih, weight_hh, bias_ih, bias_hh = params.to_torch_layout()
    with torch.no_grad():
        for name, value in (("weight_ih_l0", weight_ih), ("weight_hh_l0", weight_hh),
                            ("bias_ih_l0", bias_ih), ("bias_hh_l0", bias_hh)):
            getattr(gru, name).copy_(torch.from_numpy(value))
    x_t = torch.from_numpy(xs).requires_grad_(True)
    h0_t = torch.from_numpy(h0)[None].clone().requires_grad_(True)
    dout = torch.from_numpy(dhs)

    def run():
        for tensor in (x_t, h0_t, *gru.parameters()):
            tensor.grad = None
        out, _ = gru(x_t, h0_t)
        out.backward(dout)
        return out

    return run


def check_correctness():
    """The loop's gradients equal gru_lib's (float64), and torch's forward equals gru_lib's."""
    rng = np.random.default_rng(1)
    lines, worst = [], 0.0
    for reset_after in (False, True):
        params = init_gru_params(5, 7, reset_after=reset_after, rng=2)
        for array in params.arrays().values():
            array[...] = rng.uniform(-0.8, 0.8, array.shape)
        xs, h0, dhs = rng.standard_normal((6, 4, 5)), rng.standard_normal((4, 7)), None
        dhs = rng.standard_normal((6, 4, 7))
        err = max_gradient_difference(xs, h0, params, dhs)
        worst = max(worst, err)
        lines.append(f"loop vs gru_lib (reset_after={reset_after}), largest relative difference "
                     f"of states and gradients: {err:.1e}")
    if worst > 1e-10:
        raise AssertionError("the loop's gradients differ from gru_lib's")
    if torch is not None:
        params = init_gru_params(5, 7, reset_after=True, rng=3)
        xs, h0, dhs = make_problem(6, 4, 5, 7, np.float64, seed=4)
        out = torch_runner(params, xs, h0, dhs)().detach().numpy()
        err = float(np.max(np.abs(out - fast.gru_forward(xs, h0, params)[0])))
        lines.append(f"torch.nn.GRU vs gru_lib reset-after forward, largest difference: {err:.1e}")
        if err > 1e-10:
            raise AssertionError("torch and gru_lib disagree")
    return lines


# gru_lib's two paths, in both variants: (label, reset_after, module).
IMPLEMENTATIONS = (("fast cho", False, fast), ("fast after", True, fast),
                   ("reference cho", False, gru), ("reference after", True, gru))


def bench_size(name, t_steps, batch, input_size, hidden_size, dtype, repeats, loop_batch):
    """Median forward + backward seconds of every implementation at one size and dtype."""
    xs, h0, dhs = make_problem(t_steps, batch, input_size, hidden_size, dtype)
    runners, scale = {}, {}
    # The loop is timed on loop_batch sequences and scaled by batch / loop_batch.
    nb = min(batch, loop_batch)
    loop_params = init_gru_params(input_size, hidden_size, rng=0, dtype=dtype)
    runners["loop"] = lambda: loop_forward_backward(xs[:, :nb], h0[:nb], loop_params, dhs[:, :nb])
    scale["loop"] = batch / nb
    caches = {}
    for label, reset_after, path in IMPLEMENTATIONS:
        params = init_gru_params(input_size, hidden_size, reset_after=reset_after, rng=0,
                                 dtype=dtype)

        def run(params=params, label=label, path=path):
            _, cache = path.gru_forward(xs, h0, params)
            caches[label] = cache.nbytes()
            return path.gru_backward(dhs, cache)

        runners[label] = run
    if torch is not None:
        params = init_gru_params(input_size, hidden_size, reset_after=True, rng=0, dtype=dtype)
        runners["torch"] = torch_runner(params, xs, h0, dhs)
    times = {label: [] for label in runners}
    for fn in runners.values():
        fn()  # warm up: first-call allocations and BLAS thread start-up
    loop_repeats = 1 if scale["loop"] > 1 else repeats
    for i in range(repeats):
        for label, fn in runners.items():  # interleaved: a slow moment hits every implementation
            if label == "loop" and i >= loop_repeats:
                continue
            start = time.perf_counter()
            fn()
            times[label].append(time.perf_counter() - start)
    result = {}
    for label, values in times.items():
        seconds = float(np.median(values)) * scale.get(label, 1.0)
        result[label] = {"seconds": seconds, "runs": len(values),
                         "extrapolated_from_batch": nb if scale.get(label, 1.0) > 1 else None,
                         "cache_bytes": caches.get(label)}
    return result


def time_to_accuracy(repeats):
    """Seconds to train the sentiment model until the first epoch with 100% test accuracy."""
    out = {}
    for reset_after in (False, True):
        label = "reference after" if reset_after else "reference cho"
        _, history = train_sentiment(epochs=100, reset_after=reset_after)
        perfect = [i for i, acc in enumerate(history.test_accuracy) if acc == 1.0]
        if not perfect:
            out[label] = {"epochs": None, "seconds": None}
            continue
        epochs = perfect[0] + 1
        seconds = median_time(lambda e=epochs, r=reset_after: train_sentiment(epochs=e,
                                                                              reset_after=r),
                              repeats)
        out[label] = {"epochs": epochs, "seconds": seconds}
    return out


def machine_info():
    info = {"python": platform.python_version(), "numpy": np.__version__,
            "torch": None if torch is None else torch.__version__, "cores": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
            "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
            "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE")}
    if threadpool_info is not None:
        info["blas"] = [{k: lib.get(k) for k in ("internal_api", "version", "architecture",
                                                 "num_threads")}
                        for lib in threadpool_info() if lib.get("user_api") == "blas"]
    try:
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    return info


def run_threads(threads, sizes, dtypes, repeats, quick):
    record = {"threads": threads, "gemm_peak": {}, "sizes": {}}
    if torch is not None:
        torch.set_num_threads(threads)
    for dtype in dtypes:
        key = np.dtype(dtype).name
        square = 1024 if quick else 2048
        peaks = {f"square {square}": gemm_gflops(square, square, square, dtype, 5)}
        for name, t_steps, batch, d, h in sizes:
            peaks[f"{name} input (TB,D)@(D,3H)"] = gemm_gflops(t_steps * batch, d, 3 * h, dtype, 5)
            peaks[f"{name} recurrent (B,H)@(H,3H)"] = gemm_gflops(batch, h, 3 * h, dtype, 5)
        record["gemm_peak"][key] = peaks
        for name, t_steps, batch, d, h in sizes:
            reps = repeats if h < 500 else max(3, repeats // 3)
            loop_batch = batch if h < 100 else (8 if h < 500 else 2)
            result = bench_size(name, t_steps, batch, d, h, dtype, reps, loop_batch)
            flops = gru_flops(t_steps, batch, d, h)
            for entry in result.values():
                entry["gflops"] = flops / entry["seconds"] / 1e9
            record["sizes"].setdefault(name, {"T": t_steps, "B": batch, "D": d, "H": h,
                                              "gflop": flops / 1e9})[key] = result
            print(f"  measured {name} {key} ({threads} thread(s))", file=sys.stderr, flush=True)
    return record


class Row(NamedTuple):
    """One measurement of a run, as the tables show it."""

    size: str
    dims: str  # "T, B, D, H"
    dtype: str
    implementation: str
    ms: float
    extrapolated: bool
    gflops: float
    x_torch: float | None  # time / torch's time at the same size and dtype (None: no torch)
    peak_percent: float  # GFLOP/s as a share of NumPy's square GEMM rate
    rec_percent: float  # ... and of its rate at the recurrent shape (B, H) @ (H, 3H)
    cache_mb: float | None


def table_rows(run):
    """The rows of one run (one thread count): sizes, then dtypes, then implementations."""
    rows = []
    for name, entry in run["sizes"].items():
        dims = f"{entry['T']}, {entry['B']}, {entry['D']}, {entry['H']}"
        for dtype in ("float32", "float64"):
            if dtype not in entry:
                continue
            peaks = run["gemm_peak"][dtype]
            square = next(v for k, v in peaks.items() if k.startswith("square"))
            recurrent = peaks[f"{name} recurrent (B,H)@(H,3H)"]
            torch_s = entry[dtype].get("torch", {}).get("seconds")
            for label, r in entry[dtype].items():
                rows.append(Row(name, dims, dtype, label, r["seconds"] * 1e3,
                                bool(r["extrapolated_from_batch"]), r["gflops"],
                                r["seconds"] / torch_s if torch_s else None,
                                100 * r["gflops"] / square, 100 * r["gflops"] / recurrent,
                                r["cache_bytes"] / 1e6 if r["cache_bytes"] else None))
    return rows


def _ratio(row):
    return "-" if row.x_torch is None else f"{row.x_torch:.2f}"


def _cache(row):
    return "" if row.cache_mb is None else f"{row.cache_mb:.2f}"


def print_table(record):
    print(f"\n=== {record['threads']} thread(s) ===")
    for key, peaks in record["gemm_peak"].items():
        print(f"NumPy GEMM peak, {key}: " + ", ".join(f"{k} {v:.0f}" for k, v in peaks.items())
              + " GFLOP/s")
    header = (f"{'size':<10}{'T,B,D,H':<16}{'dtype':<9}{'implementation':<15}{'ms':>11}"
              f"{'GFLOP/s':>9}{'x torch':>9}{'% peak':>8}{'% rec':>7}{'cache MB':>10}")
    print(header)
    print("-" * len(header))
    rows = table_rows(record)
    for row in rows:
        ms = f"{row.ms:.1f}" + ("*" if row.extrapolated else "")
        print(f"{row.size:<10}{row.dims.replace(' ', ''):<16}{row.dtype:<9}"
              f"{row.implementation:<15}{ms:>11}{row.gflops:>9.1f}{_ratio(row):>9}"
              f"{row.peak_percent:>7.0f}%{row.rec_percent:>6.0f}%{_cache(row):>10}")
    if any(row.extrapolated for row in rows):
        print("* extrapolated: the loop was timed on a few sequences and scaled to the batch "
              "(its cost is linear in B)")


def markdown_report(results):
    """The tables of a saved run (the ``--json`` file) as Markdown, as in benchmarks/README.md."""
    lines = []
    for run in results["runs"]:
        lines += [f"### {run['threads']} thread{'s' if run['threads'] > 1 else ''}", ""]
        for key, peaks in run["gemm_peak"].items():
            lines.append(f"NumPy GEMM, {key}: " + ", ".join(f"{k} **{v:.0f}**"
                                                         for k, v in peaks.items())
                         + " GFLOP/s.")
            lines.append("")
        lines += ["| size (T, B, D, H) | dtype | implementation | ms | GFLOP/s | x torch | % peak "
                  "| cache MB |", "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |"]
        for row in table_rows(run):
            star = "*" if row.extrapolated else ""
            lines.append(f"| {row.size} ({row.dims}) | {row.dtype} | {row.implementation} "
                         f"| {row.ms:.1f}{star} | {row.gflops:.1f} | {_ratio(row)} "
                         f"| {row.peak_percent:.0f}% | {_cache(row)} |")
        lines.append("")
        for label, e in run["train_to_100_percent"].items():
            lines.append(f"Training the sentiment model to 100% test accuracy ({label}, float64, "
                         f"full-batch Adam): {e['epochs']} epochs in {e['seconds']:.2f} s.")
        lines.append("")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few repetitions")
    parser.add_argument("--threads", type=int, nargs="+", default=None,
                        help="BLAS (and torch) thread counts to measure (default: 1 2)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed runs per implementation (default 15, 5 with --quick)")
    parser.add_argument("--json", type=Path, default=None, help="save the raw numbers here")
    parser.add_argument("--report", type=Path, default=None,
                        help="print the Markdown tables of a saved --json file and exit")
    args = parser.parse_args(argv)
    if args.report:
        print(markdown_report(json.loads(args.report.read_text())))
        return
    sizes = QUICK_SIZES if args.quick else SIZES
    repeats = args.repeats or (5 if args.quick else 15)
    threads_list = args.threads or ([1] if args.quick else [1, 2])

    info = machine_info()
    print("Machine:", ", ".join(f"{k}={v}" for k, v in info.items() if k != "blas"))
    for lib in info.get("blas", []):
        print("BLAS:", ", ".join(f"{k}={v}" for k, v in lib.items()))
    if info["OPENBLAS_CORETYPE"] or info["OPENBLAS_L2_SIZE"]:
        print("Note: OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE are set and may slow NumPy; compare with "
              "`env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_gru.py`")
    else:
        print("OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE: not set")
    if torch is None:
        print("torch not installed: skipped (the torch column is empty)")
    if threadpool_limits is None:
        print("threadpoolctl not installed: BLAS uses its default thread count")
    for line in check_correctness():
        print("Check:", line)

    results = {"machine": info, "command": " ".join(["python", "benchmarks/bench_gru.py",
                                                     *(argv or sys.argv[1:])]), "runs": []}
    for threads in threads_list:
        limits = threadpool_limits(threads) if threadpool_limits else None
        try:
            record = run_threads(threads, sizes, (np.float32, np.float64), repeats, args.quick)
            record["train_to_100_percent"] = time_to_accuracy(1 if args.quick else 3)
        finally:
            if limits is not None:
                limits.restore_original_limits()
        results["runs"].append(record)
        print_table(record)
        for label, entry in record["train_to_100_percent"].items():
            if entry["epochs"] is None:
                print(f"Training ({label}, float64): no epoch with 100% test accuracy in 100")
            else:
                print(f"Training the sentiment model to 100% test accuracy ({label}, float64, "
                      f"full-batch Adam): {entry['epochs']} epochs, {entry['seconds']:.2f} s")
    print("\nColumns: ms = median forward+backward time; GFLOP/s = GEMM FLOPs (see gru_flops) "
          "per second; x torch = time / torch.nn.GRU's time (same dtype and threads; below 1 is "
          "faster); % peak = GFLOP/s / NumPy's square GEMM peak; % rec = / NumPy's GEMM at the "
          "recurrent shape (B,H)@(H,3H); cache MB = the cache.nbytes() of the forward pass.")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
        print(f"Raw numbers saved to {args.json}")


if __name__ == "__main__":
    main()
