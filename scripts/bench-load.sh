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
"""Summarise `perf script -F comm,tid,ip,sym` output of the dnid server."""
import re, sys, collections

def samples(path):
    comm, frames = None, []
    for line in open(path, errors='replace'):
        if not line.strip():
            if comm is not None:
                yield comm, frames
            comm, frames = None, []
            continue
        if not line.startswith('\t') and not line.startswith(' ' * 8 + ' ') and comm is None:
            comm = line.rsplit(None, 1)[0].strip()
            continue
        parts = line.strip().split(None, 1)
        if len(parts) == 2:
            frames.append((parts[0], parts[1]))
        elif parts:
            frames.append((parts[0], '[unknown]'))
    if comm is not None:
        yield comm, frames

INCL = [
  ('hyper connection task (all HTTP + handler)', r'hyper::proto::h1::dispatch::Dispatcher.*poll'),
  ('  hyper h1 parse request head', r'hyper::proto::h1::role::.*Server.*parse|hyper::proto::h1::role::parse_headers|httparse::'),
  ('  hyper h1 encode response head', r'hyper::proto::h1::role::.*encode|hyper::proto::h1::role::Server::encode'),
  ('  dnid route() (handler incl. waiting glue)', r'dnid::http::routes::route'),
  ('    tracking::new_session', r'dnid::http::tracking::new_session'),
  ('    tracking::page_view', r'dnid::http::tracking::page_view'),
  ('    read body (read_limited)', r'dnid::http::body::read_limited'),
  ('    JSON parse request (parse_json)', r'dnid::http::body::parse_json'),
  ('    JSON response (json_response)', r'dnid::http::body::json_response'),
  ('    SessionReply::new (format, rfc3339, token)', r'SessionReply>::new|dnid::http::tracking::SessionReply::new'),
  ('    client_ip / headers clone', r'dnid::http::client::client_ip|HeaderMap.*clone|<http::header::map::HeaderMap<T> as core::clone::Clone>'),
  ('    bot matcher (aho-corasick)', r'BotMatcher.*is_bot|aho_corasick'),
  ('    http metrics (telemetry::http::request)', r'dnid::telemetry::http::request'),
  ('    ask_pool / ractor call (send side)', r'dnid::http::App::ask_router|dnid::http::App::ask_pool|ractor::actor::actor_ref::ActorRef<.*>::call|ractor::rpc::call'),
  ('ractor actor loops (router + pool)', r'ractor::actor::ActorRuntime<.*>::processing_loop'),
  ('  RouterActor::handle (dispatch hop)', r'<dnid::actors::router::RouterActor as ractor::actor::Actor>::handle'),
  ('  PoolActor::handle', r'<dnid::actors::pool_actor::PoolActor as ractor::actor::Actor>::handle'),
  ('    PoolActor::log (encode + WAL send)', r'dnid::actors::pool_actor::PoolActor::log'),
  ('      encode_pool_record (bincode)', r'dnid::store::codec::encode_pool_record'),
  ('    AssignInput::attribution (URL parse)', r'AssignInput::attribution|Attribution::from_landing'),
  ('    SessionId::random', r'SessionId::random'),
  ('    record.apply (engine)', r'dnid::store::record::PoolRecord::apply|dnid::engine::pool::Pool::'),
  ('    pool metrics update', r'dnid::telemetry::pool::'),
  ('    observe_sizing', r'observe_sizing'),
  ('WAL writer thread (Writer::run)', r'dnid::store::wal::Writer::run'),
  ('  write_batch (write + fdatasync)', r'dnid::store::wal::Writer::write_batch'),
  ('  frame (CRC32C + copy)', r'dnid::store::segment::frame'),
  ('  completions (send Committed msg)', r'dnid::actors::pool_actor::PoolActor::log::\{\{closure\}\}|FnOnce.*Committed'),
  ('serde_json (anywhere)', r'serde_json::'),
  ('bincode (anywhere)', r'bincode::'),
  ('url crate (anywhere)', r'^url::|<url::'),
  ('metrics crates (anywhere)', r'metrics::|metrics_util::|metrics_exporter_prometheus::|dnid::telemetry::'),
  ('tracing (anywhere, excl. Instrumented wrapper)', r'^(tracing::(?!instrument)|tracing_core::|tracing_subscriber::|<tracing_subscriber)'),
  ('malloc/free/realloc (anywhere)', r'^(malloc|free|realloc|calloc|cfree|_int_malloc|_int_free|_int_realloc|malloc_consolidate|__libc_malloc|__libc_free|__libc_realloc|tcache_|unlink_chunk|alloc::alloc::|__rust_alloc|__rust_dealloc|__rdl_)'),
  ('memcpy/memmove (anywhere)', r'__memmove|__memcpy|memcpy|memmove|__memset'),
  ('kernel (any syscall or fault)', r'^entry_SYSCALL_64|asm_exc_page_fault|asm_sysvec'),
  ('  send (sendto/write on socket)', r'__x64_sys_sendto|__x64_sys_sendmsg|tcp_sendmsg|sock_write_iter'),
  ('  recv (recvfrom/read on socket)', r'__x64_sys_recvfrom|__x64_sys_recvmsg|tcp_recvmsg|sock_read_iter'),
  ('  epoll_wait', r'__x64_sys_epoll_wait|do_epoll_wait'),
  ('  futex (thread wake/park)', r'__x64_sys_futex'),
  ('  WAL write()', r'ext4_file_write_iter|ext4_buffered_write'),
  ('  fdatasync', r'__x64_sys_fdatasync|ext4_sync_file'),
  ('  page faults', r'asm_exc_page_fault'),
  ('tokio scheduler/park (non-task)', r'tokio::runtime::scheduler::multi_thread::worker::Context::park|tokio::runtime::park|tokio::runtime::io::driver::Driver::turn'),
]

def main(path):
    total = 0
    by_thread = collections.Counter()
    incl = collections.Counter()
    selfc = collections.Counter()
    comp = collections.Counter()
    for comm, frames in samples(path):
        if comm.startswith('taskset') or comm.startswith('perf'):
            continue
        total += 1
        by_thread[comm] += 1
        syms = [s for _, s in frames]
        for name, rx in INCL:
            r = re.compile(rx)
            if any(r.search(s) for s in syms):
                incl[name] += 1
        if syms:
            leaf = syms[0]
            selfc[leaf] += 1
            # Component of the leaf frame (first user-space frame for kernel leaves).
            kernel = frames[0][0].startswith('ffffffff')
            if kernel:
                sc = 'kernel: other'
                for n, rx in [('kernel: send', r'sendto|tcp_sendmsg'), ('kernel: recv', r'recvfrom|tcp_recvmsg'),
                              ('kernel: epoll_wait', r'epoll_wait'), ('kernel: futex', r'futex'),
                              ('kernel: WAL write', r'ext4_file_write_iter|ksys_write'), ('kernel: fdatasync', r'fdatasync|ext4_sync_file'),
                              ('kernel: page fault', r'exc_page_fault'), ('kernel: sched_yield', r'sched_yield'), ('kernel: irq/softirq', r'irq|softirq')]:
                    if any(re.search(rx, s) for s in syms):
                        sc = n; break
                comp[sc] += 1
            else:
                c = 'other'
                for n, rx in [('malloc/free', r'^(malloc|free|realloc|calloc|cfree|_int_|malloc_consolidate|__libc_|tcache|unlink_chunk)'),
                              ('memcpy/memset', r'mem(move|cpy|set)|__mem'),
                              ('serde_json', r'serde_json::|serde::'), ('bincode', r'bincode::'), ('crc32c', r'crc32c'),
                              ('httparse', r'httparse'), ('hyper', r'hyper::|hyper_util::|^http::|http_body'),
                              ('ractor', r'ractor::'), ('tokio', r'tokio::'), ('metrics', r'metrics|dnid::telemetry'),
                              ('tracing', r'tracing'), ('url', r'url::|idna|percent_encoding'),
                              ('hashbrown/hash', r'hashbrown|siphash|Hash|hash'), ('rand/chacha', r'rand|chacha'),
                              ('base64', r'base64'), ('dnid engine', r'dnid::engine'), ('dnid http', r'dnid::http'),
                              ('dnid actors', r'dnid::actors'), ('dnid store', r'dnid::store'), ('dnid other', r'dnid::'),
                              ('std/core/alloc', r'^(std|core|alloc)::|<(std|core|alloc)::'), ('libc other', r'^__|^_')]:
                    if re.search(rx, leaf):
                        c = n; break
                comp[c] += 1
    print(f'samples: {total}')
    print('by thread: ' + ', '.join(f'{k} {100*v/total:.1f}%' for k, v in by_thread.most_common()))
    print('\ninclusive % of server CPU samples:')
    for name, _ in INCL:
        print(f'  {100*incl[name]/total:5.1f}%  {name}')
    print('\nself time by component of the leaf frame:')
    for k, v in comp.most_common():
        print(f'  {100*v/total:5.1f}%  {k}')
    print('\ntop self symbols:')
    for k, v in selfc.most_common(30):
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
        # With inlined frames (slow: addr2line) for inclusive figures, without for self.
        perf script -i "$data" -F comm,tid,ip,sym 2>/dev/null | sed 's/::h[0-9a-f]\{16\}//g' >"$out/$w.script"
        perf script -i "$data" --no-inline -F comm,tid,ip,sym 2>/dev/null | sed 's/::h[0-9a-f]\{16\}//g' >"$out/$w.noinline.script"
        {
            echo "== $w: inclusive (inlined frames) =="
            python3 "$out/analyze.py" "$out/$w.script" | sed -n '/^samples/,/^self time/p'
            echo
            echo "== $w: self time (real symbols only) =="
            python3 "$out/analyze.py" "$out/$w.noinline.script" | sed -n '/^self time/,$p'
        } >"$out/$w.txt"
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
