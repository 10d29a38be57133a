#!/usr/bin/env bash
# Installs and starts the Docker engine and a local image registry (Debian's docker-registry on $REGISTRY_ADDR),
# installs a portable Apptainer and starts a one-node Slurm cluster (Debian's slurm-wlm and munge) on Debian 12,
# as root; also Chromium and its driver for the pages' browser tests.
# Idempotent: every step checks whether it is already done. Users with their own engines never need this.
set -euo pipefail

APPTAINER_PREFIX="${APPTAINER_PREFIX:-/opt/apptainer}"
SID_MIRROR="${SID_MIRROR:-}"
REGISTRY_ADDR="${REGISTRY_ADDR:-127.0.0.1:5000}"
REGISTRY_CONFIG=/etc/docker/registry/medperf.yml

log() { printf '[install-engines] %s\n' "$*" >&2; }

if [ "$(id -u)" != 0 ]; then
  echo "install-engines.sh must run as root (it installs Debian packages and starts dockerd)" >&2
  exit 1
fi

debian_mirror() {
  # The mirror this machine's apt already uses (never hard-coded).
  if [ -n "$SID_MIRROR" ]; then echo "$SID_MIRROR"; return; fi
  local uri
  uri=$(grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)
  if [ -z "$uri" ]; then
    uri=$(grep -h '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

apt_updated=0
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ $apt_updated = 0 ]; then apt-get update -qq; apt_updated=1; fi
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_docker() {
  apt_install docker.io debootstrap busybox-static ca-certificates
}

start_docker() {
  if docker info >/dev/null 2>&1; then log "docker engine already running"; return 0; fi
  if [ -f /var/run/docker.pid ]; then
    local pid; pid=$(cat /var/run/docker.pid || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      log "dockerd (pid $pid) is starting"
    else
      log "removing stale /var/run/docker.pid"
      rm -f /var/run/docker.pid
    fi
  fi
  if ! [ -f /var/run/docker.pid ]; then
    rm -f /var/run/docker.sock
    log "starting dockerd"
    nohup dockerd --iptables=false --bridge=none >/var/log/dockerd.log 2>&1 &
  fi
  for _ in $(seq 1 60); do
    if docker info >/dev/null 2>&1; then log "docker engine is up"; return 0; fi
    sleep 1
  done
  echo "dockerd did not come up within 60 s; see /var/log/dockerd.log" >&2
  tail -n 20 /var/log/dockerd.log >&2 || true
  exit 1
}

# The tutorial images live in a real registry (MedPerf's client always pulls): Debian's docker-registry, plain HTTP
# on loopback only, no auth. Docker (and, with --nohttps, Apptainer) accept plain HTTP for localhost/127.0.0.0/8.
registry_up() { curl -fsS -m 3 -o /dev/null "http://$REGISTRY_ADDR/v2/" 2>/dev/null; }

start_registry() {
  apt_install docker-registry curl
  if ! [ -f "$REGISTRY_CONFIG" ] || ! grep -qxF "  addr: $REGISTRY_ADDR" "$REGISTRY_CONFIG"; then
    # The package's own config.yml asks for htpasswd auth and listens on every interface: ours does neither.
    cat > "$REGISTRY_CONFIG" <<CONF
# medperf: the local registry of the tutorial images (written by scripts/install-engines.sh)
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: /var/lib/docker-registry
  delete:
    enabled: true
http:
  addr: $REGISTRY_ADDR
  headers:
    X-Content-Type-Options: [nosniff]
CONF
    log "wrote $REGISTRY_CONFIG"
  fi
  if registry_up; then log "registry already serving on $REGISTRY_ADDR"; return 0; fi
  if [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]; then
    mkdir -p /etc/systemd/system/docker-registry.service.d
    printf '[Service]\nExecStart=\nExecStart=/usr/bin/docker-registry serve %s\n' "$REGISTRY_CONFIG" \
      > /etc/systemd/system/docker-registry.service.d/medperf.conf
    systemctl daemon-reload
    systemctl enable docker-registry >/dev/null 2>&1 || true
    systemctl restart docker-registry
  else
    local pidfile=/run/docker-registry.pid
    if pid_alive "$pidfile"; then kill "$(cat "$pidfile")" 2>/dev/null || true; sleep 1; fi
    rm -f "$pidfile"
    log "starting docker-registry on $REGISTRY_ADDR"
    start-stop-daemon --start --background --no-close --chuid docker-registry --make-pidfile \
      --pidfile "$pidfile" --exec /usr/bin/docker-registry -- serve "$REGISTRY_CONFIG" \
      >>/var/log/docker-registry.log 2>&1
  fi
  for _ in $(seq 1 30); do
    if registry_up; then log "registry is up: http://$REGISTRY_ADDR/v2/"; return 0; fi
    sleep 1
  done
  echo "the registry did not answer on http://$REGISTRY_ADDR/v2/ within 30 s; see /var/log/docker-registry.log" >&2
  tail -n 20 /var/log/docker-registry.log >&2 || true
  exit 1
}

install_apptainer() {
  local bin="$APPTAINER_PREFIX/usr/bin/apptainer"
  if [ -x "$bin" ] && "$bin" --version >/dev/null 2>&1; then
    log "apptainer already installed: $("$bin" --version)"
  else
    apt_install patchelf
    local work; work=$(mktemp -d)
    local mirror; mirror=$(debian_mirror)
    mkdir -p "$work/lists/partial" "$work/archives/partial" "$work/debs"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror sid main" > "$work/sources.list"
    local aptopts=(-o "Dir::State::Lists=$work/lists" -o "Dir::Etc::SourceList=$work/sources.list"
                   -o "Dir::Etc::SourceParts=/dev/null" -o "Dir::Cache::Archives=$work/archives"
                   -o "APT::Get::List-Cleanup=0")
    log "fetching apptainer from Debian sid ($mirror)"
    apt-get "${aptopts[@]}" update -qq
    (cd "$work/debs" && apt-get "${aptopts[@]}" download apptainer libc6 libseccomp2 libsqlite3-0 squashfs-tools \
        libgcc-s1 liblzma5 liblzo2-2 libzstd1 liblz4-1 zlib1g >/dev/null)
    rm -rf "$APPTAINER_PREFIX.tmp"; mkdir -p "$APPTAINER_PREFIX.tmp"
    for deb in "$work"/debs/*.deb; do dpkg -x "$deb" "$APPTAINER_PREFIX.tmp"; done
    local p="$APPTAINER_PREFIX"
    local libdir="$p/usr/lib/x86_64-linux-gnu"
    for f in usr/bin/apptainer usr/lib/x86_64-linux-gnu/apptainer/bin/starter usr/bin/mksquashfs usr/bin/unsquashfs; do
      patchelf --set-interpreter "$libdir/ld-linux-x86-64.so.2" --force-rpath --set-rpath "$libdir" \
        "$APPTAINER_PREFIX.tmp/$f"
    done
    ln -sfn "$p/etc" "$APPTAINER_PREFIX.tmp/usr/etc"
    mkdir -p "$APPTAINER_PREFIX.tmp/usr/lib/var/lib/apptainer/mnt/session"
    sed -i 's/^root default capabilities = .*/root default capabilities = no/' \
      "$APPTAINER_PREFIX.tmp/etc/apptainer/apptainer.conf"
    ln -sfn apptainer "$APPTAINER_PREFIX.tmp/usr/bin/singularity"
    rm -rf "$APPTAINER_PREFIX"; mv "$APPTAINER_PREFIX.tmp" "$APPTAINER_PREFIX"
    rm -rf "$work"
    log "apptainer installed: $("$bin" --version)"
  fi
  for b in apptainer singularity; do ln -sfn "$APPTAINER_PREFIX/usr/bin/$b" "/usr/local/bin/$b"; done
}

configure_apptainer() {
  # `apptainer build` needs mksquashfs, which lives in the prefix, not on PATH: tell apptainer where to look.
  local conf="$APPTAINER_PREFIX/etc/apptainer/apptainer.conf"
  local want="binary path = \$PATH:$APPTAINER_PREFIX/usr/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  if ! grep -qxF "$want" "$conf"; then
    sed -i '/^binary path = /d' "$conf"
    printf '%s\n' "$want" >> "$conf"
    log "apptainer: binary path includes $APPTAINER_PREFIX/usr/bin (for mksquashfs)"
  fi
}

install_slurm() {
  apt_install slurm-wlm munge
}

# A live daemon of that name whose pid file names a running process.
pid_alive() { local f="$1"; [ -f "$f" ] && kill -0 "$(cat "$f" 2>/dev/null)" 2>/dev/null; }

# A real one-node cluster without systemd or cgroups (ENGINES.md): munged, slurmctld and slurmd as root.
start_slurm() {
  if timeout 10 sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
    log "slurm cluster already running"; return 0
  fi
  mkdir -p /run/munge /var/log/munge /var/lib/munge /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  [ -f /etc/munge/munge.key ] || { mungekey -c 2>/dev/null || create-munge-key -f; chown munge:munge /etc/munge/munge.key; }
  if ! pid_alive /run/munge/munged.pid; then
    rm -f /run/munge/munged.pid /run/munge/munge.socket.2*
    su munge -s /bin/sh -c /usr/sbin/munged
  fi
  local host cpus mem conf=/etc/slurm/slurm.conf
  host=$(hostname -s); cpus=$(nproc); mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512 ))
  if ! grep -q "^# medperf one-node cluster for $host $cpus $mem\$" "$conf" 2>/dev/null; then
    mkdir -p /etc/slurm
    cat > "$conf" <<CONF
# medperf one-node cluster for $host $cpus $mem
ClusterName=medperf
SlurmctldHost=$host
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SlurmUser=root
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1
MinJobAge=300
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
    log "wrote $conf"
  fi
  pid_alive /run/slurmctld.pid || { rm -f /run/slurmctld.pid; slurmctld; }
  pid_alive /run/slurmd.pid || { rm -f /run/slurmd.pid; slurmd; }
  for _ in $(seq 1 30); do
    if timeout 5 sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
      log "slurm cluster is up: $(sinfo -V)"; return 0
    fi
    scontrol update nodename="$host" state=resume >/dev/null 2>&1 || true
    sleep 1
  done
  echo "the slurm cluster did not come up within 30 s; see /var/log/slurm/" >&2
  tail -n 20 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
  exit 1
}

# The pages' browser tests (tests/ui/test_browser.py) drive Debian's Chromium headless through its own driver.
install_browser() {
  apt_install chromium chromium-driver
}

install_docker
start_docker
start_registry
install_browser
install_apptainer
configure_apptainer
install_slurm
start_slurm
log "done"
