# Helpers shared by scripts/kafka.sh and scripts/mongo.sh (sourced, not run).
# The sourcing script defines log and die.

# Port helpers use python3's socket module: it is on every machine we run on,
# while ss/netstat are not. SO_REUSEADDR matches what the servers set, so a
# port in TIME_WAIT counts as free and only a listening socket counts as taken.
port_is_free() {
    python3 - "$1" <<'PY'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
PY
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# choose_port ENV_VALUE PREVIOUS NAME: an explicit port must be free (else
# fail, naming the variable NAME); otherwise reuse the previous port if it is
# free, so clients that kept the old address still work, else any free port.
choose_port() {
    local want=$1 prev=$2 what=$3
    if [ -n "$want" ]; then
        [[ "$want" =~ ^[0-9]+$ ]] || die "$what '$want' is not a port number"
        port_is_free "$want" || die "$what $want on 127.0.0.1 is already in use"
        echo "$want"
    elif [ -n "$prev" ] && port_is_free "$prev"; then
        echo "$prev"
    else
        free_port
    fi
}

# kill_and_wait PID SECONDS: SIGTERM, wait up to SECONDS for a clean
# shutdown, then SIGKILL.
kill_and_wait() {
    local pid=$1 secs=$2 i
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < secs * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    log "pid $pid still alive after ${secs}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
}
