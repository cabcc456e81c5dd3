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
# unavailable in VMs) with frame-pointer call graphs (a second build of dnid with
# -C force-frame-pointers=yes in target/load-fp) of the dnid process only, written to
# target/load-profile/<workload>.perf.data, summarised as <workload>.txt (inclusive
# and self %), recording only the closed-loop measured windows (perf --control,
# enabled by the harness). perf itself runs on the load generator's CPU, so its sample writing
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
    # DWARF unwinding of the async stacks fails for about half the samples; a build
    # with frame pointers (std has them) unwinds reliably. Its own target folder, so
    # the release build is left alone.
    CARGO_TARGET_DIR=target/load-fp RUSTFLAGS="-C force-frame-pointers=yes" \
        cargo build --release --quiet --bin dnid
    cat >"$out/analyze.py" <<'PY'
#!/usr/bin/env python3
"""Summarises `perf script -F comm,tid,ip,sym --no-inline` output of the dnid server:
inclusive % of CPU samples by component (real symbols: async fns inlined into their
callers are counted in them), and self time by the leaf frame."""
import re, sys, collections

def samples(path):
    comm, frames = None, []
    for line in open(path, errors='replace'):
        if not line.strip():
            if comm is not None:
                yield comm, frames
            comm, frames = None, []
            continue
        if comm is None and not line[0].isspace() or comm is None and not line.startswith('\t'):
            comm = line.rsplit(None, 1)[0].strip()
            continue
        parts = line.strip().split(None, 1)
        frames.append((parts[0], parts[1] if len(parts) == 2 else '[unknown]'))
    if comm is not None:
        yield comm, frames

INCL = [
  ('HTTP connection tasks (hyper + handler)', r'dnid::http::server::serve::\{\{closure\}\}::\{\{closure\}\}'),
  ('  read + parse request head (hyper, recv)', r'hyper::proto::h1::conn::Conn<I,B,T>::poll_read_head'),
  ('  write response (hyper flush: writev)', r'hyper::proto::h1::io::Buffered<T,B>::poll_flush'),
  ('  handler (routes::dispatch, all)', r'dnid::http::routes::dispatch::'),
  ('    read body (read_limited)', r'dnid::http::body::read_limited'),
  ('    JSON parse request', r'dnid::http::body::parse_json|serde_json::de::from_'),
  ('    JSON reply (SessionReply + json_response)', r'dnid::http::body::json_response|SessionReply::new'),
  ('    bot matcher', r'BotMatcher::is_bot'),
  ('    CORS / header map clone and drop', r'dnid::http::tracking::cors|HeaderMap<T> as core::clone::Clone|drop_in_place<http::header::map::HeaderMap'),
  ('    ractor call (send, oneshot, timeout)', r'ractor::rpc::internal_call|ActorProperties::send_message|ractor::concurrency::tokio_primitives::timeout'),
  ('    HTTP metrics', r'dnid::telemetry::http::'),
  ('actor tasks (router + pool actor loops)', r'ractor::actor::ActorRuntime<TActor>::start::'),
  ('  RouterActor::handle (dispatch hop)', r'<dnid::actors::router::RouterActor as ractor::actor::Actor>::handle'),
  ('  origin_allowed (pool actor)', r'dnid::engine::origin::origin_allowed'),
  ('  Attribution::from_landing (URL parse, pool actor)', r'Attribution::from_landing|AssignInput::attribution'),
  ('  PoolActor::log (encode + hand to WAL)', r'dnid::actors::pool_actor::PoolActor::log$'),
  ('    bincode encode', r'dnid::store::codec::|bincode::'),
  ('    Wal::append (mpsc send, wakes WAL thread)', r'dnid::store::wal::Wal::append'),
  ('  PoolRecord::apply (engine)', r'dnid::store::record::PoolRecord::apply'),
  ('  PoolActor::answer + reply', r'dnid::actors::pool_actor::PoolActor::answer'),
  ('  pool metrics / stats / sizing', r'dnid::telemetry::pool::|dnid::engine::stats::'),
  ('WAL thread (dnid-wal)', None),
  ('  write(2) of batches', r'LogFile>::write_all|^std::io::Write::write_all'),
  ('  waiting for records (std mpsc recv_timeout: waker registration, futex park)', r'std::sync::mpmc::Receiver<T>::recv_timeout'),
  ('  frame (CRC32C + copy)', r'dnid::store::segment::frame'),
  ('  completions (Committed to pool actor)', r'dnid::actors::pool_actor::PoolActor::log::\{\{closure\}\}|ActorCell::send_message'),
  ('serde_json (anywhere)', r'serde_json::'),
  ('url crate (anywhere)', r'^url::|<url::'),
  ('metrics (anywhere)', r'^metrics|<metrics|dnid::telemetry::'),
  ('malloc/free/realloc (anywhere)', r'^(malloc|free|realloc|calloc|cfree|_int_malloc|_int_free|_int_realloc|malloc_consolidate|sysmalloc|unlink_chunk)'),
  ('memcpy/memmove (anywhere)', r'__memmove|__memcpy|__memset'),
  ('kernel: any syscall', r'^entry_SYSCALL_64'),
  ('  socket send (writev → tcp_sendmsg, incl. loopback delivery)', r'tcp_sendmsg'),
  ('  socket recv (recvfrom)', r'tcp_recvmsg|__x64_sys_recvfrom'),
  ('  epoll_wait', r'do_epoll_wait'),
  ('  futex (wake / park between threads)', r'do_futex'),
  ('  WAL write(2)', r'ext4_file_write_iter|ext4_buffered_write'),
  ('  fdatasync', r'ext4_sync_file|__x64_sys_fdatasync'),
  ('kernel: page faults', r'asm_exc_page_fault'),
  ('kernel: context switch (finish_task_switch)', r'finish_task_switch'),
]

def main(path):
    total = 0
    by_thread = collections.Counter()
    incl = collections.Counter()
    selfc = collections.Counter()
    rx = [(n, re.compile(r) if r else None) for n, r in INCL]
    for comm, frames in samples(path):
        if comm.startswith('taskset') or comm.startswith('perf'):
            continue
        total += 1
        by_thread[comm] += 1
        syms = [s for _, s in frames]
        for name, r in rx:
            if r is None:
                hit = comm == 'dnid-wal'
            else:
                hit = any(r.search(s) for s in syms)
            if hit:
                incl[name] += 1
        if syms:
            selfc[syms[0]] += 1
    print(f'samples: {total}')
    print('by thread: ' + ', '.join(f'{k} {100*v/total:.1f}%' for k, v in by_thread.most_common()))
    print('\ninclusive % of the server\'s CPU samples:')
    for name, _ in INCL:
        print(f'  {100*incl[name]/total:5.1f}%  {name}')
    print('\ntop self symbols:')
    for k, v in selfc.most_common(25):
        print(f'  {100*v/total:5.1f}%  {k[:150]}')

main(sys.argv[1])
PY
    ctl="$out/perf.ctl"
    rm -f "$ctl"
    mkfifo "$ctl"
    for w in ${DNID_LOAD_PROFILE_WORKLOADS:-new-never mixed-never}; do
        data="$out/$w.perf.data"
        # -D -1: start disabled; the harness enables it for the measured windows only.
        DNID_LOAD_ONLY=$w DNID_LOAD_SECS=${DNID_LOAD_SECS:-8} DNID_LOAD_PERF_CTL="$ctl" \
        DNID_BIN=target/load-fp/release/dnid \
        DNID_LOAD_SERVER_WRAP="perf record -e cpu-clock -F 1999 --call-graph fp -q -D -1 --control fifo:$ctl -o $data --" \
            "$bench" | tee "$out/$w.run.txt"
        # Real symbols only (no addr2line for inlined frames: minutes, and frame-pointer
        # stacks fold inlined async fns into their callers anyway).
        perf script -i "$data" --no-inline -F comm,tid,ip,sym 2>/dev/null |
            sed 's/::h[0-9a-f]\{16\}//g' >"$out/$w.script"
        python3 "$out/analyze.py" "$out/$w.script" >"$out/$w.txt"
        echo "profile of $w: $out/$w.txt"
    done
    rm -f "$ctl"
    exit 0
fi

if [ -n "$quick" ]; then
    DNID_LOAD_QUICK=1 "$bench"
else
    "$bench"
fi
