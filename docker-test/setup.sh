#!/bin/sh
# Entrypoint of the my-db node image (CMD ["/root/setup.sh"]).
#
# Cluster mode: when clusterdeploy has mounted its per-node script at /clusterdeploy/setup.sh,
# hand over to it (same arguments, same PID so it receives the container's signals).
#
# Standalone mode (`docker run -p 127.0.0.1:40409:40404 my-db:dev`): the node is a cluster
# of one. SELF_IP defaults to the first address of `hostname -i`; unless $CFG_PATH already
# holds a table that was not written by this script (e.g. one mounted by the operator), it is
# (re)written as the single line "<hostname> <SELF_IP> <PORT>"; then the server is exec'd so
# SIGTERM from `docker stop` reaches it directly.
#
# Usage: setup.sh [node-name]    (the name is only logged, like the seed's ./setup.sh node1)
# Messages go to stderr: stdout carries only the server's JSON log lines.
set -eu

if [ -e /clusterdeploy/setup.sh ]; then
    if [ -x /clusterdeploy/setup.sh ]; then
        exec /clusterdeploy/setup.sh "$@"
    fi
    exec /bin/sh /clusterdeploy/setup.sh "$@"
fi

log() { echo "setup.sh: $*" >&2; }

NODE_ARG="${1:-}"
CFG_PATH="${CFG_PATH:-/root/Cluster.config}"
PORT="${PORT:-40404}"
MARK="# written by /root/setup.sh (standalone mode); replaced on every start"

if [ -z "${SELF_IP:-}" ]; then
    SELF_IP="$(hostname -i 2>/dev/null | awk '{ print $1 }')" || SELF_IP=""
    if [ -z "$SELF_IP" ]; then
        SELF_IP="$(ip -4 -o addr show scope global 2>/dev/null | awk '{ sub(/\/.*/, "", $4); print $4; exit }')"
    fi
fi
if [ -z "$SELF_IP" ]; then
    log "cannot determine this container's address; set SELF_IP"
    exit 1
fi

if [ -s "$CFG_PATH" ] && [ "$(head -n 1 "$CFG_PATH")" != "$MARK" ]; then
    log "standalone mode${NODE_ARG:+ (node $NODE_ARG)}: keeping existing $CFG_PATH"
else
    mkdir -p "$(dirname "$CFG_PATH")"
    printf '%s\n%s %s %s\n' "$MARK" "$(hostname)" "$SELF_IP" "$PORT" > "$CFG_PATH"
    log "standalone mode${NODE_ARG:+ (node $NODE_ARG)}: wrote $CFG_PATH: $(hostname) $SELF_IP $PORT"
fi

export CFG_PATH SELF_IP PORT
exec /root/service/server
