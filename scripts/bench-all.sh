#!/bin/sh
# Reproduces every figure of README.md's Benchmarks section in one run (issue #7):
# the engine and actor micro-benchmarks (criterion), the durability bench (WAL,
# snapshot, recovery of 1,000,000 leases, snapshot stall) and the HTTP load harness
# (throughput and latency against a bare-hyper baseline, scaling, memory per session),
# then prints every design §7 budget with its figure, each against the baseline
# measured in the same run.
#
#   scripts/bench-all.sh            # ~12 minutes plus the builds
#   scripts/bench-all.sh --quick    # smoke run: short measurements, small sizes
#
# Full outputs land in target/bench-report/. Needs python3 (for the summary) and a
# quiet machine: see scripts/bench-load.sh for the load-average wait.
set -eu
cd "$(dirname "$0")/.."

quick=
case "${1:-}" in
    --quick) quick=1 ;;
    "") ;;
    *) echo "usage: $0 [--quick]" >&2; exit 2 ;;
esac

out=target/bench-report
mkdir -p "$out"
crit=""
if [ -n "$quick" ]; then
    crit="--warm-up-time 1 --measurement-time 2"
    export DNID_BENCH_QUICK=1
fi

echo "== engine (criterion)"
# shellcheck disable=SC2086
cargo bench --bench engine -- $crit >"$out/engine.txt" 2>&1
echo "== actors (criterion)"
# shellcheck disable=SC2086
cargo bench --bench actor -- $crit >"$out/actor.txt" 2>&1
echo "== durability"
cargo bench --bench durability >"$out/durability.txt" 2>&1
echo "== HTTP load"
if [ -n "$quick" ]; then
    scripts/bench-load.sh --quick >"$out/load.txt" 2>&1
else
    scripts/bench-load.sh >"$out/load.txt" 2>&1
fi

python3 - "$out" <<'PY'
import json, os, re, sys

out = sys.argv[1]
crit = "target/criterion"

def median_ns(*path):
    p = os.path.join(crit, *path, "new", "estimates.json")
    with open(p) as f:
        return json.load(f)["median"]["point_estimate"]

def fmt(ns):
    return f"{ns / 1000:.2f} µs" if ns >= 1000 else f"{ns:.0f} ns"

print("\n# Budgets (design §7), this run\n")
miss = median_ns("baseline_dependent_load", "1000000")
for op in ("assign", "renew", "expire"):
    small, big = median_ns(f"engine_{op}", "10"), median_ns(f"engine_{op}", "1000000")
    ok = small <= 200 and big <= 200 and big / small <= 1.5
    print(f"- {'PASS' if ok else 'FAIL'} engine {op} ≤ 200 ns, flat within 1.5×: "
          f"{fmt(small)} at 10, {fmt(big)} at 1,000,000 ({big / small:.1f}×; "
          f"{big / miss:.1f} DRAM misses of {fmt(miss)} measured in the same run)")
echo = median_ns("actor", "ractor_echo")
for name, key in (("assign", "pool_actor_assign"), ("renew", "pool_actor_renew")):
    t = median_ns("actor", key)
    print(f"- {'PASS' if t <= 2000 else 'FAIL'} {name} through the pool actor ≤ 2 µs: "
          f"{fmt(t)} ({t / echo:.1f}× a bare ractor call, {fmt(echo)})")
for line in open(os.path.join(out, "durability.txt"), errors="replace"):
    if line.startswith("| recovery::recover"):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        last = cells[-1]
        verdict = ("(quick run: not comparable)" if "quick" in last
                   else "PASS" if last.endswith("met") and "NOT" not in last else "FAIL")
        print(f"- {verdict} recovery of 1M leases ≤ 3 s: {cells[1]} (baseline: {cells[3]})")
for line in open(os.path.join(out, "load.txt"), errors="replace"):
    if re.match(r"- (PASS|FAIL) ", line):
        print(line.rstrip())
print(f"\nfull outputs: {out}/")
PY
