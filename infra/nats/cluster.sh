#!/usr/bin/env bash
# Starts, stops and inspects a local 3-node JetStream cluster on loopback, configured by
# infra/nats/cluster/{common,n1,n2,n3}.conf.
#
# usage: cluster.sh start  [DIR]   start every node that is not running, wait for a meta leader
#        cluster.sh stop   [DIR]   stop every node (SIGINT, SIGKILL after 10 s); the store is kept
#        cluster.sh status [DIR]   one line per node; exit 0 only if all 3 run and agree on a leader
#        cluster.sh kill NODE [DIR]  SIGKILL one node (n1, n2, n3), for fault drills; `start` revives it
#
# DIR (default ./.data/cluster) holds conf/ (the configs as run) and n1/ n2/ n3/ (store, log, pid).
# Environment:
#   NATS_SERVER                  nats-server binary (default: on PATH, else /usr/sbin/nats-server)
#   OFA_CLUSTER_PORT_OFFSET      added to every port of the configs (default 0: clients 4222-4224,
#                                routes 6222-6224, monitoring 8222-8224)
#   OFA_CLUSTER_START_TIMEOUT_S  how long `start` waits for a meta leader (default 30)
set -euo pipefail

readonly HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly SRC="$HERE/cluster"
readonly NODES=(n1 n2 n3)
readonly BASE_PORTS=(4222 4223 4224 6222 6223 6224 8222 8223 8224)
readonly STOP_TIMEOUT_S=10

die() { echo "cluster.sh: $*" >&2; exit 1; }

server_bin() {
  if [[ -n "${NATS_SERVER:-}" ]]; then echo "$NATS_SERVER"; return; fi
  command -v nats-server 2>/dev/null || { [[ -x /usr/sbin/nats-server ]] && echo /usr/sbin/nats-server; } ||
    die "nats-server not found on PATH or in /usr/sbin (apt-get install -y nats-server, or set NATS_SERVER)"
}

# `sync_interval` exists from nats-server 2.10 on; older servers refuse to start with it.
supports_sync_interval() {
  local v major minor
  v="$("$1" --version | sed -n 's/.*v\([0-9][0-9]*\)\.\([0-9][0-9]*\).*/\1 \2/p')"
  read -r major minor <<<"$v"
  [[ -n "$major" ]] && (( major > 2 || (major == 2 && minor >= 10) ))
}

# Writes DIR/conf/: the committed configs, ports shifted by the offset, and without
# `sync_interval` when the server is too old to know it (loudly: durability is weaker then).
render_configs() {
  local dir="$1" bin="$2" offset="${OFA_CLUSTER_PORT_OFFSET:-0}" expr=() p f
  [[ "$offset" =~ ^[0-9]+$ ]] || die "OFA_CLUSTER_PORT_OFFSET must be a number, got '$offset'"
  # Through a marker, so a shifted port is never shifted twice (4222+2000 is 6222).
  for p in "${BASE_PORTS[@]}"; do expr+=(-e "s/127\.0\.0\.1:$p\b/@LOOPBACK@:$((p + offset))/g"); done
  expr+=(-e "s/@LOOPBACK@/127.0.0.1/g")
  mkdir -p "$dir/conf"
  for f in common n1 n2 n3; do sed "${expr[@]}" "$SRC/$f.conf" >"$dir/conf/$f.conf"; done
  if ! supports_sync_interval "$bin"; then
    sed -i '/^[[:space:]]*sync_interval:/d' "$dir/conf/common.conf"
    echo "cluster.sh: WARNING: $("$bin" --version) has no sync_interval; running without" \
      "'sync_interval: always' (writes are fsynced on a timer, see infra/README.md)" >&2
  fi
}

# True while a nats-server process runs as pid $1 (not a zombie, not a reused pid).
alive() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  [[ "$stat" == *"(nats-server)"* && "${stat##*) }" != Z* ]]
}

# The pid of a running node, or nothing (no pid file, or a stale one).
node_pid() {
  local file="$1/$2/nats.pid" pid
  [[ -f "$file" ]] || return 0
  pid="$(cat "$file")"
  if [[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid"; then echo "$pid"; fi
}

conf_port() { sed -n "s/^$2:[[:space:]]*127\.0\.0\.1:\([0-9]*\).*/\1/p" "$1/conf/$3.conf"; }

# GET /jsz from a node's monitor port with bash's /dev/tcp (no curl needed); prints the
# meta leader's name, or nothing.
meta_leader() {
  local port="$1" body
  body="$( { exec 3<>"/dev/tcp/127.0.0.1/$port" && printf 'GET /jsz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 && cat <&3; } 2>/dev/null)" || return 0
  sed -n 's/.*"leader": *"\([^"]*\)".*/\1/p' <<<"$body" | head -n 1
}

# Prints the leader when every running node names the same one and all 3 run.
agreed_leader() {
  local dir="$1" n leader="" seen
  for n in "${NODES[@]}"; do
    [[ -n "$(node_pid "$dir" "$n")" ]] || return 0
    seen="$(meta_leader "$(conf_port "$dir" http "$n")")"
    [[ -n "$seen" && ( -z "$leader" || "$seen" == "$leader" ) ]] || return 0
    leader="$seen"
  done
  echo "$leader"
}

start_node() {
  local dir="$1" bin="$2" n="$3"
  mkdir -p "$dir/$n"
  rm -f "$dir/$n/nats.pid"
  # setsid: the node outlives this shell and ignores a Ctrl-C typed at the terminal later.
  setsid "$bin" -c "$dir/conf/$n.conf" --store_dir "$dir/$n" -P "$dir/$n/nats.pid" -l "$dir/$n/nats.log" \
    </dev/null >>"$dir/$n/stdout.log" 2>&1 &
}

cmd_start() {
  local dir="$1" bin n deadline leader
  bin="$(server_bin)"
  render_configs "$dir" "$bin"
  for n in "${NODES[@]}"; do
    [[ -n "$(node_pid "$dir" "$n")" ]] || start_node "$dir" "$bin" "$n"
  done
  deadline=$((SECONDS + ${OFA_CLUSTER_START_TIMEOUT_S:-30}))
  while :; do
    leader="$(agreed_leader "$dir")"
    if [[ -n "$leader" ]]; then echo "cluster.sh: 3 nodes up in $dir, meta leader $leader"; return 0; fi
    if (( SECONDS >= deadline )); then
      for n in "${NODES[@]}"; do echo "--- $n ---" >&2; tail -n 15 "$dir/$n/nats.log" "$dir/$n/stdout.log" 2>/dev/null >&2 || true; done
      die "no agreed meta leader after ${OFA_CLUSTER_START_TIMEOUT_S:-30} s (logs above)"
    fi
    sleep 0.2
  done
}

cmd_stop() {
  local dir="$1" n pid deadline
  for n in "${NODES[@]}"; do
    pid="$(node_pid "$dir" "$n")"
    [[ -n "$pid" ]] || continue
    # SIGINT: nats-server shuts down cleanly and exits 0 (SIGTERM exits 1).
    kill -INT "$pid"
    deadline=$((SECONDS + STOP_TIMEOUT_S))
    while alive "$pid" && (( SECONDS < deadline )); do sleep 0.1; done
    if alive "$pid"; then kill -KILL "$pid"; fi
    rm -f "$dir/$n/nats.pid"
    echo "cluster.sh: stopped $n (pid $pid)"
  done
}

cmd_status() {
  local dir="$1" n pid urls=() state
  [[ -d "$dir/conf" ]] || { echo "cluster.sh: no cluster in $dir (run: cluster.sh start $dir)"; return 1; }
  for n in "${NODES[@]}"; do
    pid="$(node_pid "$dir" "$n")"
    urls+=("nats://127.0.0.1:$(conf_port "$dir" listen "$n")")
    if [[ -n "$pid" ]]; then
      state="running pid=$pid meta_leader=$(meta_leader "$(conf_port "$dir" http "$n")")"
    else
      state="stopped"
    fi
    echo "$n ${urls[-1]} monitor=http://127.0.0.1:$(conf_port "$dir" http "$n") $state"
  done
  echo "NATS_URL=$(IFS=,; echo "${urls[*]}")"
  [[ -n "$(agreed_leader "$dir")" ]]
}

cmd_kill() {
  local dir="$1" n="$2" pid
  [[ " ${NODES[*]} " == *" $n "* ]] || die "unknown node '$n' (n1, n2, n3)"
  pid="$(node_pid "$dir" "$n")"
  [[ -n "$pid" ]] || die "$n is not running"
  kill -KILL "$pid"
  echo "cluster.sh: killed $n (pid $pid)"
}

# An absolute path, so the pid files and --store_dir do not depend on where a node runs.
abs_dir() {
  mkdir -p "$1"
  (cd "$1" && pwd)
}

main() {
  local cmd="${1:-}"
  case "$cmd" in
    start | stop | status) cmd_"$cmd" "$(abs_dir "${2:-./.data/cluster}")" ;;
    kill) [[ -n "${2:-}" ]] || die "usage: cluster.sh kill NODE [DIR]"; cmd_kill "$(abs_dir "${3:-./.data/cluster}")" "$2" ;;
    *) die "usage: cluster.sh start|stop|status [DIR] | kill NODE [DIR]" ;;
  esac
}

main "$@"
