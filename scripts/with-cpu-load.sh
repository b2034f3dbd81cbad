#!/usr/bin/env bash
# Run a command with N CPU-burning processes alongside (default 2), as on a busy machine:
#   scripts/with-cpu-load.sh [-n N] COMMAND [ARGS...]
# The burners are killed however the command ends (exit, failure, Ctrl-C, SIGTERM); the command's
# exit status is this script's.
set -u
burners=2
if [ "${1:-}" = "-n" ]; then
    burners=$2
    shift 2
fi
if [ "$#" -eq 0 ]; then
    echo "usage: $0 [-n N] COMMAND [ARGS...]" >&2
    exit 2
fi

pids=()
stop_burners() {
    if [ "${#pids[@]}" -gt 0 ]; then
        kill "${pids[@]}" 2>/dev/null
        wait "${pids[@]}" 2>/dev/null
        pids=()
    fi
}
trap stop_burners EXIT
trap 'stop_burners; exit 130' INT
trap 'stop_burners; exit 143' TERM

for _ in $(seq "$burners"); do
    # Each burner dies with this script even if it is SIGKILLed (it watches its parent's pid).
    ( parent=$$; while kill -0 "$parent" 2>/dev/null; do for _ in $(seq 20000); do :; done; done ) &
    pids+=("$!")
done
echo "[with-cpu-load] ${burners} CPU burners running (pids ${pids[*]}); load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2

started=$(date +%s)
"$@"
status=$?
echo "[with-cpu-load] '$*' exited ${status} after $(( $(date +%s) - started )) s with ${burners} burners" >&2
exit "$status"
