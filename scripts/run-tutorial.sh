#!/usr/bin/env bash
# The whole life of a benchmark, end to end and without questions: sets the checkout up (scripts/setup.sh), starts
# a local medperf server with a fresh database that knows only the demo users, makes the tutorials' workspace in
# ./medperf_tutorial and runs MedPerf's three tutorials in order, printing each command before it runs: the
# benchmark owner builds the benchmark, the admin approves it, the model owner brings a second model, the
# committee approves it, the data owner runs the data-owner tutorial, and the benchmark owner sees the ranked
# results.
#
# Settings (environment variables):
#   TUTORIAL       all (default): the whole life; data: the data-owner tutorial alone, on a server seeded with
#                  `medperf server seed --demo data`
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

TUTORIAL="${TUTORIAL:-all}"
case "$PLATFORM" in docker|singularity|slurm) ;; *) die "PLATFORM must be docker, singularity or slurm, not '$PLATFORM'";; esac
case "$TUTORIAL" in all|data) ;; *) die "TUTORIAL must be all or data, not '$TUTORIAL'";; esac

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

if [ "$TUTORIAL" = data ]; then
  say "seeding the server with the data-owner tutorial's benchmark"
  "$medperf" server seed --demo data --data-dir "$server_dir" --public-url "$url" </dev/null
  say "toy data in ./medperf_tutorial"
  "$medperf" tutorial setup data </dev/null
else
  say "seeding the server with the demo users only"
  "$medperf" server seed --demo benchmark --data-dir "$server_dir" </dev/null
  say "the tutorials' workspace in ./medperf_tutorial"
  "$medperf" tutorial setup benchmark </dev/null
fi
if [ "$PORT" != 8000 ]; then
  step "profile set --server $url"
fi
if [ "$PLATFORM" != docker ]; then
  step "profile set --platform $PLATFORM"
fi

if [ "$TUTORIAL" = all ]; then
  say "the benchmark owner's tutorial"
  step 'auth login -e testbo@example.com'
  step 'test run --data_preparator medperf_tutorial/data_preparator/container_config.yaml --model medperf_tutorial/model_custom_cnn/container_config.yaml --evaluator medperf_tutorial/metrics/container_config.yaml --data_path medperf_tutorial/demo_data/images --labels_path medperf_tutorial/demo_data/labels'
  step 'container submit --name my-prep --container-config-file medperf_tutorial/data_preparator/container_config.yaml --parameters-file medperf_tutorial/data_preparator/workspace/parameters.yaml --operational -y'
  step 'container submit --name my-refmodel --container-config-file medperf_tutorial/model_custom_cnn/container_config.yaml --parameters-file medperf_tutorial/model_custom_cnn/workspace/parameters.yaml --additional-file medperf_tutorial/model_custom_cnn/cnn_weights.tar.gz --operational -y'
  step 'container submit --name my-metrics --container-config-file medperf_tutorial/metrics/container_config.yaml --parameters-file medperf_tutorial/metrics/workspace/parameters.yaml --operational -y'
  step 'container ls --mine'
  step 'benchmark submit --name tutorial_bmk --description "MedPerf demo bmk" --demo-url medperf_tutorial/demo_data.tar.gz --data-preparation-container 1 --reference-model-container 2 --evaluator-container 3 --operational -y'
  step 'benchmark ls --mine'
  say "the admin approves the benchmark"
  step 'auth login -e testadmin@example.com'
  step 'benchmark approve -b 1'

  say "the model owner's tutorial"
  step 'auth login -e testmo@example.com'
  step 'benchmark ls'
  step 'test run --benchmark 1 --model medperf_tutorial/model_mobilenetv2/container_config.yaml'
  step 'container submit --name my-model --container-config-file medperf_tutorial/model_mobilenetv2/container_config.yaml --parameters-file medperf_tutorial/model_mobilenetv2/workspace/parameters.yaml --additional-file medperf_tutorial/model_mobilenetv2/mobilenetv2_weights.tar.gz --operational -y'
  step 'container ls --mine'
  step 'container associate --benchmark 1 --model_uid 4 -y'
  step 'association ls -bm'
  say "the benchmark committee approves the model"
  step 'auth login -e testbo@example.com'
  step 'association approve -b 1 -m 4'
  "$medperf" tutorial setup data --skip-build </dev/null
fi

say "the data-owner tutorial"
step 'auth login -e testdo@example.com'
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

if [ "$TUTORIAL" = all ]; then
  say "the benchmark owner sees the results"
  step 'result submit --result b1m2d1 -y'
  step 'auth login -e testbo@example.com'
  step 'result ls --benchmark 1'
  step 'benchmark view 1 --results'
fi

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
if [ "$TUTORIAL" = all ]; then
  say "done: the whole life of a benchmark ran end to end (${SECONDS} s)"
else
  say "done: the data-owner tutorial ran end to end (${SECONDS} s)"
fi
