#!/usr/bin/env bash
# One-time (and idempotent) set-up of a checkout on Debian 12:
#   1. the container engines (scripts/install-engines.sh: Docker Engine started, portable Apptainer, a one-node
#      Slurm cluster),
#   2. a virtualenv in .venv with medperf, the three runners and the example plugin installed editable,
#   3. the tutorial's container images.
# Every step checks whether it is already done, so a second run takes a second or two.
# Needs root (sudo) the first time; afterwards it also runs as a user who can reach the Docker engine.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
venv="$root/.venv"
stamp="$venv/.medperf-setup-stamp"

say() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }

apt_updated=0
apt_install() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  is_root || die "Debian packages missing: ${missing[*]}; run this script with sudo"
  if [ $apt_updated = 0 ]; then
    say "apt-get update"
    apt-get update -qq
    apt_updated=1
  fi
  say "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

engines_work() {
  docker info >/dev/null 2>&1 && command -v apptainer >/dev/null 2>&1 && apptainer --version >/dev/null 2>&1
}

# The registry the tutorial images are pushed to answers (MEDPERF_TUTORIAL_REGISTRY set empty: no registry).
registry_works() {
  local registry="${MEDPERF_TUTORIAL_REGISTRY-localhost:5000}"
  [ -z "$registry" ] || curl -fsS -m 3 -o /dev/null "http://${registry%%/*}/v2/" 2>/dev/null
}

# 1. Container engines -------------------------------------------------------------------------------------------
if is_root; then
  say "container engines (scripts/install-engines.sh)"
  "$root/scripts/install-engines.sh"
elif engines_work && registry_works; then
  say "container engines: docker, apptainer and the registry already work, skipping scripts/install-engines.sh"
elif engines_work; then
  die "no image registry answers on ${MEDPERF_TUTORIAL_REGISTRY:-localhost:5000}; run: sudo $0 (or set MEDPERF_TUTORIAL_REGISTRY= to keep the tutorial images local)"
else
  die "the Docker engine or Apptainer is missing or not running; run: sudo $0"
fi

# PostgreSQL (the server's second database; the server tests run on both): installed, started, root let in.
if is_root; then
  say "PostgreSQL (scripts/start-postgres.sh)"
  "$root/scripts/start-postgres.sh" >/dev/null
fi

# 2. Python environment ------------------------------------------------------------------------------------------
# The client scripts need curl (run-tutorial.sh polls the server with it).
command -v curl >/dev/null 2>&1 || apt_install curl ca-certificates
# wrk drives the server benchmarks (benchmarks/server_*.py), which the test suite runs once at tiny sizes.
if ! command -v wrk >/dev/null 2>&1; then
  if is_root; then apt_install wrk; else say "wrk is missing (the server benchmarks need it): run this script with sudo"; fi
fi

command -v python3 >/dev/null 2>&1 || apt_install python3
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || die "python3 is $(python3 --version 2>&1); medperf needs Python 3.11 or newer"

# A usable venv runs, and was made here: a venv copied from another path (or machine) has scripts whose
# shebangs point elsewhere, and is made afresh.
venv_ok() {
  [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import sys' >/dev/null 2>&1 \
    && head -n1 "$venv/bin/pip" 2>/dev/null | grep -qxE "#!$venv/bin/python3?(\.[0-9]+)?"
}
if ! venv_ok; then
  # Debian's python3 lacks ensurepip until python3-venv is installed.
  if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    apt_install python3-venv
  fi
  say "creating .venv with $(python3 --version)"
  rm -rf "$venv"
  if ! python3 -m venv "$venv" >/dev/null 2>&1; then
    apt_install python3-venv
    rm -rf "$venv"
    python3 -m venv "$venv"
  fi
  rm -f "$stamp"
fi

# The editable installs only need redoing when a distribution's metadata (dependencies, entry points) changes.
want="$(cat pyproject.toml runners/docker/pyproject.toml runners/singularity/pyproject.toml runners/slurm/pyproject.toml \
        plugins/example-plugin/pyproject.toml "$root/scripts/setup.sh" | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$venv/bin/medperf" --version >/dev/null 2>&1; then
  say "python packages already installed in .venv"
else
  # pip's (and setuptools') chatter goes to a log that is shown only when something fails.
  log="$venv/pip-install.log"
  : > "$log"
  pip() {
    "$venv/bin/python" -m pip --disable-pip-version-check "$@" >>"$log" 2>&1 \
      || { tail -n 40 "$log" >&2; die "pip $* failed (full log: $log)"; }
  }
  say "upgrading pip"
  pip install --upgrade pip
  say "installing medperf[server,postgres,test,bench], medperf-docker, medperf-singularity, medperf-slurm, medperf-example-plugin (editable)"
  pip install -e '.[server,postgres,test,bench]' -e runners/docker -e runners/singularity -e runners/slurm -e plugins/example-plugin
  "$venv/bin/medperf" --version >/dev/null || die "medperf does not start after the install"
  printf '%s\n' "$want" > "$stamp"
fi

# 3. Tutorial images (built when missing or changed; otherwise only inspected) ------------------------------------
say "tutorial images"
"$venv/bin/python" -m medperf_core.tutorial.images >&2

say "ready: $("$venv/bin/medperf" --version)"
