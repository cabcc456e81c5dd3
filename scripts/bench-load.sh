#!/bin/sh
# Runs the HTTP load harness (benches/load.rs, issue #7) on a quiet machine, and
# optionally profiles the server under the `new` and `mixed` workloads.
#
#   scripts/bench-load.sh              # full table, scaling and memory (~5-8 min)
#   scripts/bench-load.sh --quick      # ~1 s per measurement
#   scripts/bench-load.sh --profile    # perf profiles of new/never and mixed/never
#
# Waits (up to DNID_LOAD_WAIT seconds, default 600) for the 1-minute load average to
# drop below DNID_LOAD_MAX_LOADAVG (default 0.5): client and server each get one of
# the 2 cores, and anything else running makes the figures meaningless. The load
# average is printed with the results.
#
# Profiles: `perf record -e cpu-clock` (software clock: hardware counters are often
# unavailable in VMs) with DWARF call graphs of the dnid process only, written to
# target/load-profile/<workload>.perf.data, summarised as <workload>.txt (inclusive
# and self %). perf itself runs on the load generator's CPU, so its sample writing
# does not take the server's CPU.
set -eu
cd "$(dirname "$0")/.."

quick=
profile=
for a in "$@"; do
    case $a in
        --quick) quick=1 ;;
        --profile) profile=1 ;;
        *) echo "usage: $0 [--quick] [--profile]" >&2; exit 2 ;;
    esac
done

cargo build --release --quiet
bench=$(cargo bench --bench load --no-run --message-format=json 2>/dev/null |
    sed -n 's/.*"executable":"\([^"]*load-[^"]*\)".*/\1/p' | tail -1)
[ -x "$bench" ] || { echo "cannot find the load bench executable" >&2; exit 1; }

max=${DNID_LOAD_MAX_LOADAVG:-0.5}
wait=${DNID_LOAD_WAIT:-600}
waited=0
while :; do
    load=$(cut -d' ' -f1 /proc/loadavg)
    if awk "BEGIN { exit !($load < $max) }"; then break; fi
    if [ "$waited" -ge "$wait" ]; then
        echo "load average still $load after ${wait}s; running anyway" >&2
        break
    fi
    sleep 10
    waited=$((waited + 10))
done
echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"

if [ -n "$profile" ]; then
    command -v perf >/dev/null || { echo "perf not found (apt-get install -y linux-perf)" >&2; exit 1; }
    out=target/load-profile
    mkdir -p "$out"
    for w in new-never mixed-never; do
        data="$out/$w.perf.data"
        DNID_LOAD_ONLY=$w DNID_LOAD_SECS=${DNID_LOAD_SECS:-8} \
        DNID_LOAD_SERVER_WRAP="perf record -e cpu-clock -F 1999 --call-graph dwarf,32768 -q -o $data --" \
            "$bench"
        perf report -i "$data" --children --stdio --no-demangle --percent-limit 1.5 \
            -g none --sort symbol 2>/dev/null | sed 's/::h[0-9a-f]\{16\}//g' >"$out/$w.txt"
        perf report -i "$data" --no-children --stdio --percent-limit 0.7 \
            -g none --sort dso,symbol 2>/dev/null | sed 's/::h[0-9a-f]\{16\}//g' >"$out/$w.self.txt"
        echo "profile of $w: $out/$w.txt (inclusive), $out/$w.self.txt (self)"
    done
    exit 0
fi

if [ -n "$quick" ]; then
    DNID_LOAD_QUICK=1 "$bench"
else
    "$bench"
fi
