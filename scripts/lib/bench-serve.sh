# Shared by the HTTP benchmarks (source it): wrk installed, a release `serve` on a free loopback
# port, wrk runs kept in $work. The caller sets work, threads, connections and duration.

install_wrk() {
  dpkg -s wrk >/dev/null 2>&1 && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq wrk >/dev/null
}

# start_serve BINARY CONFIG DB: sets serve_pid and base (http://127.0.0.1:PORT); stop_serve on exit.
start_serve() {
  "$1" serve --config "$2" --db "$3" --host 127.0.0.1 --port 0 >"$work/serve.out" 2>"$work/serve.err" &
  serve_pid=$!
  trap stop_serve EXIT
  local port=""
  for _ in $(seq 600); do
    port=$(sed -n 's|.*serving http://[^:]*:\([0-9]*\)/.*|\1|p' "$work/serve.out")
    [ -n "$port" ] && break
    kill -0 "$serve_pid" 2>/dev/null || { cat "$work/serve.err" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$port" ] || { echo "bench: the server printed no port" >&2; exit 1; }
  base="http://127.0.0.1:$port"
}

stop_serve() {
  kill -TERM "$serve_pid" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$serve_pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$serve_pid" 2>/dev/null || true
}

# wrk_run LABEL ARGS…: the wrk output, kept in $work/LABEL.txt
wrk_run() {
  local label=$1; shift
  wrk --latency -t"$threads" -c"$connections" -d"$duration" --timeout 10s "$@" | tee "$work/$label.txt"
}
