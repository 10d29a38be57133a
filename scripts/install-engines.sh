#!/usr/bin/env bash
# Installs and starts the Docker engine and installs a portable Apptainer on Debian 12, as root.
# Idempotent: every step checks whether it is already done. Users with their own engines never need this.
set -euo pipefail

APPTAINER_PREFIX="${APPTAINER_PREFIX:-/opt/apptainer}"
SID_MIRROR="${SID_MIRROR:-}"

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

install_docker
start_docker
install_apptainer
configure_apptainer
log "done"
