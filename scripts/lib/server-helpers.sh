# shellcheck shell=bash
# Helpers shared by the server scripts (scripts/kafka.sh, mongo.sh, mongo-java.sh,
# postgres.sh, connect.sh) and bench/pg-ferretdb.sh
# (sourced, not run).
# The sourcing script defines log and die; for the mongo_server_* commands
# also running_pid (the server's pid, empty when it is not running) and port.

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

# pid_from_file PIDFILE PATTERN: prints the pid in PIDFILE if that process
# is alive and its command line matches the grep PATTERN, else nothing
# (pids are recycled, so the file alone is not trusted). A here-string, not
# `tr | grep -q`: under pipefail grep's early exit can fail the pipeline.
pid_from_file() {
    [ -f "$1" ] || return 0
    local pid
    pid=$(cat "$1" 2>/dev/null || true)
    [[ "$pid" =~ ^[0-9]+$ ]] || return 0
    if [ -r "/proc/$pid/cmdline" ] &&
        grep -q "$2" <<<"$(tr '\0' ' ' <"/proc/$pid/cmdline")"; then
        echo "$pid"
    fi
}

# mongo_wire_ping PORT: sends {ping: 1, $db: "admin"} as an OP_MSG and succeeds if the reply says
# ok: 1. Plain python3 with no driver, so the check needs nothing installed
# and does not depend on the code under test.
mongo_wire_ping() {
    python3 - "$1" <<'PY'
import socket, struct, sys

def cstr(s):
    return s.encode() + b"\0"

def bson(elements):
    body = b"".join(elements) + b"\0"
    return struct.pack("<i", len(body) + 4) + body

doc = bson([b"\x10" + cstr("ping") + struct.pack("<i", 1),
            b"\x02" + cstr("$db") + struct.pack("<i", 6) + cstr("admin")])
msg = struct.pack("<I", 0) + b"\0" + doc          # flagBits, section kind 0
header = struct.pack("<iiii", 16 + len(msg), 1, 0, 2013)  # OP_MSG

def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise OSError("connection closed")
        buf += chunk
    return buf

# Sizes of the fixed-width BSON types, to walk the top-level elements.
FIXED = {0x01: 8, 0x07: 12, 0x08: 1, 0x09: 8, 0x0A: 0, 0x10: 4, 0x11: 8,
         0x12: 8, 0x13: 16, 0x7F: 0, 0xFF: 0}

def ok_value(d):
    i = 4
    while d[i] != 0:
        t = d[i]
        end = d.index(b"\0", i + 1)
        key = d[i + 1:end].decode()
        i = end + 1
        if key == "ok":
            if t == 0x01:
                return struct.unpack_from("<d", d, i)[0]
            if t == 0x10:
                return struct.unpack_from("<i", d, i)[0]
            if t == 0x12:
                return struct.unpack_from("<q", d, i)[0]
            return None
        if t in FIXED:
            i += FIXED[t]
        elif t in (0x02, 0x0D, 0x0E):
            i += 4 + struct.unpack_from("<i", d, i)[0]
        elif t in (0x03, 0x04):
            i += struct.unpack_from("<i", d, i)[0]
        elif t == 0x05:
            i += 5 + struct.unpack_from("<i", d, i)[0]
        else:
            return None
    return None

try:
    with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3) as s:
        s.sendall(header + msg)
        length, _, _, opcode = struct.unpack("<iiii", recv_exact(s, 16))
        reply = recv_exact(s, length - 16)
except OSError:
    sys.exit(1)
if opcode != 2013 or reply[4] != 0:
    sys.exit(1)
sys.exit(0 if ok_value(reply[5:]) == 1 else 1)
PY
}

# The commands every server script shares. Besides log and die, the
# sourcing script defines RUN (its state directory), PIDFILE, running_pid
# (the server's pid, empty when it is not running) and listen_address
# (what `address` prints: host:port, or a URL).

# Takes the script's lock, $RUN/lock on fd 9, for the rest of the command;
# waits at most $1 seconds for another command of the same script.
take_run_lock() {
    mkdir -p "$RUN"
    exec 9>"$RUN/lock"
    flock -w "$1" 9 || die "timed out waiting for $RUN/lock"
}

# status: exit 0 and where, if running; exit 3 if not.
server_status() {
    local pid
    pid=$(running_pid)
    if [ -n "$pid" ]; then
        log "running (pid $pid) at $(listen_address)"
        return 0
    fi
    log "stopped"
    return 3
}

server_address() {
    [ -n "$(running_pid)" ] || die "not running"
    listen_address
}

# stop: ends the server this script started (SIGTERM, SIGKILL after $2
# seconds) and waits for its exit; $1 names it in the log.
server_stop() {
    local pid
    pid=$(running_pid)
    if [ -z "$pid" ]; then
        log "not running"
        rm -f "$PIDFILE"
        return 0
    fi
    log "stopping $1 (pid $pid)"
    kill_and_wait "$pid" "$2"
    rm -f "$PIDFILE"
    log "stopped"
}

# ping of a MongoDB-wire server script (scripts/mongo.sh, mongo-java.sh).
mongo_server_ping() {
    [ -n "$(running_pid)" ] || die "not running"
    mongo_wire_ping "$(port)" || die "no ping reply from 127.0.0.1:$(port)"
    log "ping ok at 127.0.0.1:$(port)"
}

# The runtime jars of the Maven project $POM, copied into $LIBS (through the
# local repository $M2, log in $CACHE/mvn.log) unless the stamp file $1
# already holds the pom's hash: resolved once, and again when the pom
# changes. $LIBS is replaced only by a complete copy. The sourcing script
# defines POM, LIBS, CACHE and M2, and holds whatever lock its cache needs.
maven_libs() {
    local stamp=$1 sum
    sum=$(sha256sum "$POM" | cut -d' ' -f1)
    if [ -d "$LIBS" ] && [ "$(cat "$stamp" 2>/dev/null || true)" = "$sum" ]; then
        return 0
    fi
    command -v mvn >/dev/null || die "mvn not found; run scripts/install-deps.sh"
    log "resolving jars from $POM into $LIBS (Maven Central)"
    rm -rf "$LIBS.tmp"
    mkdir -p "$CACHE" "$M2"
    # An absolute output directory: a relative one is taken from the pom's.
    if ! mvn -B -q -f "$POM" -Dmaven.repo.local="$M2" \
        dependency:copy-dependencies -DincludeScope=runtime \
        -DoutputDirectory="$LIBS.tmp" >"$CACHE/mvn.log" 2>&1; then
        tail -n 30 "$CACHE/mvn.log" >&2
        die "mvn dependency:copy-dependencies failed (log: $CACHE/mvn.log)"
    fi
    rm -rf "$LIBS"
    mv "$LIBS.tmp" "$LIBS"
    echo "$sum" >"$stamp"
    log "$(find "$LIBS" -name '*.jar' | wc -l) jars in $LIBS"
}
