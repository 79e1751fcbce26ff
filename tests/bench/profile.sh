#!/bin/bash
# profile.sh — where supervisord spends its time while it starts N services (default 1000)
# and answers `status` for all of them (issue 7).  Three views of the same two phases:
#
#   callgrind  instructions by function (user space only): the cost of our own code;
#   strace -c  syscalls of the daemon process by count and time: the cost per spawn;
#   perf       cpu-clock samples with call graphs, kernel included (fork, exec, exit),
#              when `perf record` works here (it needs no hardware counters).
#
# usage: tests/bench/profile.sh [N] [SUPERVISORD] [SUPERVISORCTL]   (as root, for perf)
# Everything goes to a temp dir, printed at the end; every process started is stopped.
set -u
N=${1:-1000}
SUPERVISORD=$(realpath "${2:-supervisord/supervisord}")
SUPERVISORCTL=$(realpath "${3:-supervisord/supervisorctl}")
STATUS_CALLS=${STATUS_CALLS:-5}
OUT=$(mktemp -d /tmp/supprofile.XXXXXX)
chmod 755 "$OUT"

# A fresh config of N sleeping services (MARKER 100000 INDEX) in DIR.
write_config() {
        local dir=$1
        mkdir -p "$dir/logs"
        ln -sf "$(command -v sleep)" "$dir/sleep"
        {
                echo "socket = \"$dir/sock\""
                echo "pidfile = \"$dir/pid\""
                echo "log-dir = \"$dir/logs\""
                for ((i = 0; i < N; i++)); do
                        printf 'service s%04d {\n        command = "%s/sleep 100000 %d"\n}\n' "$i" "$dir" "$i"
                done
        } > "$dir/supervisord.conf"
}

count_marker() { local c; c=$(pgrep -c -f "^$1/sleep 100000"); echo "${c:-0}"; }

wait_for_all() {
        local dir=$1 deadline=$((SECONDS + 600))
        while [ "$(count_marker "$dir")" -lt "$N" ]; do
                [ $SECONDS -gt $deadline ] && { echo "timeout waiting for $N processes" >&2; return 1; }
                sleep 0.05
        done
}

status_calls() {
        for ((k = 0; k < STATUS_CALLS; k++)); do
                "$SUPERVISORCTL" -s "$1/sock" status > /dev/null
        done
}

# Stop the daemon by pid, then whatever of its services is left.
stop_daemon() {
        local dir=$1 pid=$2
        kill -TERM "$pid" 2>/dev/null
        for ((k = 0; k < 600; k++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null
        for p in $(pgrep -f "^$dir/sleep 100000"); do kill -KILL "$p"; done
        wait "$pid" 2>/dev/null
}

# ---- callgrind: start and status dumped separately ----
dir=$OUT/callgrind
write_config "$dir"
valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.out.%p" \
        "$SUPERVISORD" -n -c "$dir/supervisord.conf" 2> "$dir/daemon.log" &
vg=$!
wait_for_all "$dir" && sleep 2
callgrind_control -d start "$vg" > /dev/null 2>&1
callgrind_control -z "$vg" > /dev/null 2>&1
status_calls "$dir"
callgrind_control -d status "$vg" > /dev/null 2>&1
stop_daemon "$dir" "$vg"
# Children that failed before exec leave files of their own; keep the daemon's.
for f in "$dir"/callgrind.out."$vg".*; do
        callgrind_annotate --inclusive=no "$f" 2> /dev/null | sed -n '/^Ir/,$p' | head -45 > "$f.self.txt"
        callgrind_annotate --inclusive=yes "$f" 2> /dev/null | sed -n '/^Ir/,$p' | head -60 > "$f.inclusive.txt"
done

# Start the daemon stopped (a shell that stops itself before exec'ing it), so that a tracer
# can attach before the first service is spawned.  Sets DAEMON.
launch_stopped() {
        local dir=$1
        bash -c 'kill -STOP $$; exec "$@"' launcher "$SUPERVISORD" -n -c "$dir/supervisord.conf" \
                2> "$dir/daemon.log" &
        DAEMON=$!
        while [ "$(ps -o stat= -p "$DAEMON")" != T ]; do sleep 0.01; done
}

# Attach TRACER (strace or perf) to PID, writing OUT.txt or OUT.data; sets TRACER_PID.  A
# simple command put in the background is exec'd by the forked shell: $! is the tracer.
start_tracer() {
        case $1 in
        strace) strace -c -w -o "$3.txt" -p "$2" & ;;
        perf) perf record -q --no-inherit -e cpu-clock -g -o "$3.data" -p "$2" & ;;
        esac
        TRACER_PID=$!
        sleep 0.5
}

# strace leaves SIGINT alone in a background job: TERM detaches it; perf wants INT.
stop_tracer() {
        case $1 in strace) kill -TERM "$TRACER_PID" ;; perf) kill -INT "$TRACER_PID" ;; esac
        wait "$TRACER_PID" 2> /dev/null
}

# The tracer on the daemon through the start, then through the status calls.
trace_phases() {
        local dir=$1 tracer=$2
        launch_stopped "$dir"
        start_tracer "$tracer" "$DAEMON" "$dir/start"
        kill -CONT "$DAEMON"
        wait_for_all "$dir" && sleep 2
        stop_tracer "$tracer"
        start_tracer "$tracer" "$DAEMON" "$dir/status"
        status_calls "$dir"
        sleep 0.2
        stop_tracer "$tracer"
        stop_daemon "$dir" "$DAEMON"
}

# ---- strace -c: syscalls of the daemon (not of its children) ----
dir=$OUT/strace
write_config "$dir"
trace_phases "$dir" strace

# ---- perf: cpu-clock samples, kernel included ----
dir=$OUT/perf
write_config "$dir"
if perf record -q -e cpu-clock -o /dev/null true 2> /dev/null; then
        trace_phases "$dir" perf
        for phase in start status; do
                perf report -i "$dir/$phase.data" --no-children --sort sym -g none --stdio 2> /dev/null \
                        | grep -v '^#' | grep '%' | head -40 > "$dir/$phase.txt"
                perf report -i "$dir/$phase.data" --children --sort sym -g none --stdio 2> /dev/null \
                        | grep -v '^#' | grep '%' | head -40 > "$dir/$phase.inclusive.txt"
        done
else
        echo "perf record does not work here: no perf view" > "$dir/start.txt"
fi

echo "profile of $N services in $OUT:"
ls -1 "$OUT"/*/*.txt
