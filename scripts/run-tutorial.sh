#!/usr/bin/env bash
# The data-owner tutorial, end to end and without questions: sets the checkout up (scripts/setup.sh), starts a
# local medperf server with a fresh database, seeds it with the tutorial benchmark, creates the toy data in
# ./medperf_tutorial and then runs, as the tutorial's data owner, every command of the tutorial in order.
#
# Settings (environment variables):
#   MEDPERF_HOME   the client's (and the server's) state; default ./.tutorial-home, wiped at the start
#   PORT           the server's port; default 8000
#   PLATFORM       docker (default), singularity or slurm: which engine runs the containers
#   KEEP           1 (default): leave the server's database, the client's state and ./medperf_tutorial behind to
#                  look at; 0: delete them at the end
# Runs twice in a row: every run starts from scratch.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
cd "$root"

export MEDPERF_HOME="${MEDPERF_HOME:-$root/.tutorial-home}"
PORT="${PORT:-8000}"
PLATFORM="${PLATFORM:-docker}"
KEEP="${KEEP:-1}"
medperf="$root/.venv/bin/medperf"
server_dir="$MEDPERF_HOME/server"
server_log="$MEDPERF_HOME/server.log"
url="http://127.0.0.1:$PORT"
marker=".medperf-tutorial-home"

say() { printf '[tutorial] %s\n' "$*" >&2; }
die() { printf '[tutorial] error: %s\n' "$*" >&2; exit 1; }

case "$PLATFORM" in docker|singularity|slurm) ;; *) die "PLATFORM must be docker, singularity or slurm, not '$PLATFORM'";; esac

# Prints a command exactly as the tutorial writes it, then runs it with the venv's medperf, never waiting on a
# prompt. The argument is the command line after `medperf`, in the script's own literal text.
step() {
  printf '\n$ medperf %s\n' "$1"
  eval "\"\$medperf\" $1" </dev/null
}

# A fresh MEDPERF_HOME. Only a folder this script created (it holds the marker) or an empty one is wiped, so a
# MEDPERF_HOME pointing at someone's real ~/.medperf is refused rather than deleted.
if [ -d "$MEDPERF_HOME" ] && [ -n "$(ls -A "$MEDPERF_HOME")" ] && [ ! -f "$MEDPERF_HOME/$marker" ]; then
  die "MEDPERF_HOME=$MEDPERF_HOME is not a tutorial home made by this script; point MEDPERF_HOME elsewhere"
fi
say "fresh MEDPERF_HOME=$MEDPERF_HOME"
rm -rf "$MEDPERF_HOME" "$root/medperf_tutorial"
mkdir -p "$MEDPERF_HOME"
touch "$MEDPERF_HOME/$marker"
printf '*\n' > "$MEDPERF_HOME/.gitignore"   # keeps the default ./.tutorial-home out of git

if curl -fsS "$url/healthz" >/dev/null 2>&1; then
  die "something already answers on $url; stop it or choose another PORT"
fi

server_pid=""
stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    say "stopping the server (pid $server_pid)"
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
}
on_exit() {
  local rc=$?
  stop_server
  if [ $rc != 0 ]; then
    say "FAILED (exit $rc); the server's log is $server_log:"
    tail -n 20 "$server_log" >&2 2>/dev/null || true
  fi
  exit $rc
}
trap on_exit EXIT

say "local server: fresh database in $server_dir, listening on $url"
"$medperf" server reset --data-dir "$server_dir" -y >/dev/null
"$medperf" server start --port "$PORT" --data-dir "$server_dir" >"$server_log" 2>&1 &
server_pid=$!
for _ in $(seq 1 60); do
  curl -fsS "$url/healthz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || die "the server exited while starting"
  sleep 0.5
done
curl -fsS "$url/healthz" >/dev/null || die "the server did not answer on $url/healthz within 30 s"

say "seeding the server with the data-owner tutorial's benchmark"
"$medperf" server seed --demo data --data-dir "$server_dir" </dev/null
say "toy data in ./medperf_tutorial"
"$medperf" tutorial setup data </dev/null
if [ "$PORT" != 8000 ]; then
  step "profile set --server $url"
fi

say "the data-owner tutorial"
step 'auth login -e testdo@example.com'
if [ "$PLATFORM" != docker ]; then
  step "profile set --platform $PLATFORM"
fi
step 'benchmark ls'
step 'dataset submit --name "mytestdata" --description "A tutorial dataset" --location "My machine" --data_path "medperf_tutorial/sample_raw_data/images" --labels_path "medperf_tutorial/sample_raw_data/labels" --benchmark 1 -y'
step 'dataset ls --mine'
step 'dataset prepare --data_uid 1 -y'
step 'dataset set_operational --data_uid 1 -y'
step 'dataset associate --benchmark_uid 1 --data_uid 1 -y'
step 'association ls -bd'
say "the benchmark committee approves the association"
step 'auth login -e testbo@example.com'
step 'association approve -b 1 -d 1'
step 'auth login -e testdo@example.com'
step 'association ls -bd'
step 'benchmark run --benchmark 1 --data_uid 1 -y'
step 'result view b1m4d1'
step 'result submit --result b1m4d1 -y'
step 'result ls'
step 'events verify'
step 'events ls'

echo
if [ "$KEEP" = 0 ]; then
  say "cleaning up (KEEP=0)"
  stop_server
  "$medperf" server reset --data-dir "$server_dir" -y >/dev/null
  rm -rf "$root/medperf_tutorial" "$MEDPERF_HOME"
else
  stop_server
  say "kept for you to look at (KEEP=0 deletes them):"
  say "  ./medperf_tutorial                the toy data"
  say "  $MEDPERF_HOME  the client's state, the server's database (server/) and log (server.log)"
  say "  look around: export MEDPERF_HOME=$MEDPERF_HOME"
  say "               .venv/bin/medperf server start --port $PORT --data-dir $server_dir &"
  say "               .venv/bin/medperf result ls"
fi
say "done: the data-owner tutorial ran end to end"
