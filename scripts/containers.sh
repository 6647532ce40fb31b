#!/usr/bin/env bash
# Real services for the container tests, on a fresh Debian machine (as root): podman serving the Docker API and
# images built from Debian packages (no registry is reachable here). Idempotent and quiet: a second run only checks.
# Writes DOCKER_HOST and TESTCONTAINERS_RYUK_DISABLED to /run/fdr-containers.env for scripts/test.sh to source.
set -euo pipefail

SOCK=${FDR_PODMAN_SOCK:-/run/podman-fdr.sock}   # both overridable so that a test can start a service of its own
ENV_FILE=${FDR_CONTAINERS_ENV:-/run/fdr-containers.env}
CACHE=/var/cache/fdr-images          # the debootstrap'd base, kept so a rebuild of one image skips the 45 s step
MIRROR=${FDR_DEBIAN_MIRROR:-http://deb.debian.org/debian}
ACTIVEMQ_IMAGE=localhost/fdr-activemq:6
NGINX_IMAGE=localhost/fdr-nginx-webdav:1
PROMETHEUS_IMAGE=localhost/fdr-prometheus:2

log() { echo "containers.sh: $*" >&2; }
quiet() { local out; out=$(mktemp); if ! "$@" >"$out" 2>&1; then tail -n 30 "$out" >&2; rm -f "$out"; return 1; fi; rm -f "$out"; }

[ "$(id -u)" -eq 0 ] || { log "must run as root"; exit 1; }

# One run at a time: two test runs starting together would otherwise both build the same image. Bounded wait: a
# holder that never lets go is reported, not waited for. (Not /run/fdr-containers.lock: a podman service started by an
# earlier version of this script inherited that lock and holds it for as long as it runs.)
LOCK=/run/fdr-containers.setup.lock
exec 9>"$LOCK"
flock -w 900 9 || { log "$LOCK has been held for 15 min by: $(fuser "$LOCK" 2>&1 | tr -s ' ')"; exit 1; }

# 1. Packages.
missing=()
command -v podman >/dev/null || missing+=(podman)
command -v runc >/dev/null || missing+=(runc)
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  quiet "$(dirname "$0")/apt-get-wait.sh" update
  DEBIAN_FRONTEND=noninteractive quiet "$(dirname "$0")/apt-get-wait.sh" install -y --no-install-recommends "${missing[@]}" \
    uidmap slirp4netns fuse-overlayfs netavark aardvark-dns iptables
fi

# 2. Engine settings: runc because crun fails on this cgroup layout; explicit ulimits because podman's default
#    RLIMIT_NOFILE is above this machine's hard limit.
mkdir -p /etc/containers
conf='[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"'
if [ "$(cat /etc/containers/containers.conf 2>/dev/null)" != "$conf" ]; then
  printf '%s\n' "$conf" >/etc/containers/containers.conf
fi

# 3. The Docker API on a socket, started once and left running; a later run reuses it. The service gets neither the
#    lock's descriptor (9>&-: it would hold the lock for as long as it runs) nor the terminal (setsid).
answers() { curl -fsS --max-time 5 --unix-socket "$SOCK" http://d/_ping >/dev/null 2>&1; }
service_pid() { pgrep -f -x "podman system service --time=0 unix://$SOCK" | head -n 1; }
wait_answers() { for _ in $(seq 1 300); do answers && return 0; sleep 0.2; done; return 1; }
if ! answers; then
  if [ -n "$(service_pid)" ]; then
    # Started but slow to answer (a loaded machine): wait for it rather than start a second one on the same socket.
    wait_answers || { log "podman system service (pid $(service_pid)) does not answer on $SOCK (see /var/log/podman-fdr.log)"; exit 1; }
  else
    rm -f "$SOCK"
    nohup setsid podman system service --time=0 "unix://$SOCK" >>/var/log/podman-fdr.log 2>&1 </dev/null 9>&- &
    wait_answers || { log "podman system service did not answer on $SOCK (see /var/log/podman-fdr.log)"; exit 1; }
  fi
fi

# 4. Images from a debootstrap'd bookworm base, each built once.
base() {
  if [ ! -f "$CACHE/bookworm.tar" ]; then
    log "debootstrap bookworm (once)"
    rm -rf "$CACHE/rootfs" && mkdir -p "$CACHE"
    quiet debootstrap --variant=minbase bookworm "$CACHE/rootfs" "$MIRROR"
    tar -C "$CACHE/rootfs" -cf "$CACHE/bookworm.tar.tmp" . && mv "$CACHE/bookworm.tar.tmp" "$CACHE/bookworm.tar"
    rm -rf "$CACHE/rootfs"
  fi
}

# build NAME CMD-JSON SETUP-SCRIPT: unpack the base, run SETUP inside it, import as NAME.
build() {
  local name=$1 cmd=$2 setup=$3 root
  podman image exists "$name" && return 0
  base
  log "building $name"
  root=$(mktemp -d /var/tmp/fdr-image.XXXXXX)
  tar -C "$root" -xf "$CACHE/bookworm.tar"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d" && chmod +x "$root/usr/sbin/policy-rc.d"  # no services start in the chroot
  mount -t proc proc "$root/proc"
  if ! quiet chroot "$root" /bin/bash -euc "$setup"; then umount "$root/proc"; rm -rf "$root"; return 1; fi
  umount "$root/proc"
  rm -f "$root/usr/sbin/policy-rc.d"
  rm -rf "$root/var/lib/apt/lists"/* "$root/var/cache/apt"/*.bin
  tar -C "$root" -cf "$root.tar" .
  quiet podman import --change "CMD $cmd" "$root.tar" "$name"
  rm -rf "$root" "$root.tar"
}

# ActiveMQ 5 from Debian with a STOMP connector on 61613 (Debian's instance has only openwire).
# Socket buffers of 4 MiB on it (the documented transport.socketBufferSize; default 64 KiB): with one ACK per message
# (client-individual) the default 128 KiB receive buffer fills with small ACK segments while the broker is busy writing,
# the kernel drops segments, and the connection stalls until the consumer's heart-beat watchdog reconnects.
build "$ACTIVEMQ_IMAGE" '["/usr/local/bin/fdr-activemq"]' '
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends activemq >/dev/null
conf=/etc/activemq/instances-available/main/activemq.xml
[ -f "$conf" ] || conf=$(find /etc/activemq /usr/share/activemq -name activemq.xml | head -n 1)
grep -q "stomp://0.0.0.0:61613" "$conf" || sed -i "s#<transportConnectors>#<transportConnectors>\n            <transportConnector name=\"stomp\" uri=\"stomp://0.0.0.0:61613?maximumConnections=1000\&amp;wireFormat.maxFrameSize=104857600\&amp;transport.socketBufferSize=4194304\"/>#" "$conf"
grep -q "stomp://0.0.0.0:61613" "$conf"
mkdir -p /var/lib/activemq/main/data /var/lib/activemq/main/tmp
# Debian ships no log4j 1 configuration for the broker: without one it says nothing at all, errors included.
printf "%s\n" "log4j.rootLogger=WARN, stdout" "log4j.logger.org.apache.activemq.broker.BrokerService=INFO" \
  "log4j.appender.stdout=org.apache.log4j.ConsoleAppender" "log4j.appender.stdout.layout=org.apache.log4j.PatternLayout" \
  "log4j.appender.stdout.layout.ConversionPattern=%d %-5p %c{1} - %m%n" >"$(dirname "$conf")/log4j.properties"
cat >/usr/local/bin/fdr-activemq <<EOF
#!/bin/sh
# ActiveMQ in the foreground; the data directory lives in the container so a restart keeps persistent messages.
exec java -Xms256m -Xmx512m -Djava.awt.headless=true \
  -Dactivemq.home=/usr/share/activemq -Dactivemq.base=/var/lib/activemq/main \
  -Dactivemq.conf=$(dirname "$conf") -Dactivemq.data=/var/lib/activemq/main/data \
  -Djava.io.tmpdir=/var/lib/activemq/main/tmp \
  -jar /usr/share/activemq/bin/activemq.jar start xbean:file:$conf
EOF
chmod +x /usr/local/bin/fdr-activemq
'

# nginx with WebDAV PUT under /data (an RSE's storage); python3 computes sizes and adler32 inside the container.
build "$NGINX_IMAGE" '["/usr/sbin/nginx","-g","daemon off;"]' '
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends nginx-light python3-minimal >/dev/null
nginx -V 2>&1 | grep -q http_dav_module
mkdir -p /srv/rse/data && chown -R www-data:www-data /srv/rse
cat >/etc/nginx/sites-enabled/default <<EOF
server {
    listen 80 default_server;
    root /srv/rse;
    client_max_body_size 0;
    client_body_temp_path /srv/rse/.tmp;
    location / {
        dav_methods PUT DELETE MKCOL;
        create_full_put_path on;
        dav_access user:rw group:r all:r;
        autoindex on;
    }
}
EOF
mkdir -p /srv/rse/.tmp && chown www-data:www-data /srv/rse/.tmp
'

# Prometheus 2 from Debian (promtool included). The image's own configuration scrapes only itself; tests mount theirs
# over /etc/prometheus/prometheus.yml. Data under /prometheus, listening on all interfaces.
build "$PROMETHEUS_IMAGE" '["/usr/bin/prometheus","--config.file=/etc/prometheus/prometheus.yml","--storage.tsdb.path=/prometheus","--web.listen-address=0.0.0.0:9090"]' '
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends prometheus >/dev/null
prometheus --version 2>&1 | grep -q "version 2\."
mkdir -p /prometheus
cat >/etc/prometheus/prometheus.yml <<EOF
global: {scrape_interval: 15s}
scrape_configs:
  - job_name: prometheus
    static_configs: [{targets: ["localhost:9090"]}]
EOF
'

# The base the fdr image (Containerfile) is built on in the tests: the Debian base with this machine's .NET runtime at
# /usr/share/dotnet and the "app" user (1654) of Microsoft's runtime images, which cannot be pulled here. Named by the
# runtime's version; the fdr image itself is built by the tests from the published app (tests/FdrHarness.Cli.ContainerTests).
build_dotnet_runtime() {
  local dotnet_root runtime version name root
  dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
  runtime=$(ls -d "$dotnet_root"/shared/Microsoft.NETCore.App/10.* 2>/dev/null | sort -V | tail -n 1)
  [ -n "$runtime" ] || { log "no .NET 10 runtime under $dotnet_root: the fdr image cannot be built"; return 1; }
  version=$(basename "$runtime")
  name=localhost/fdr-dotnet-runtime:$version
  podman image exists "$name" && return 0
  base
  log "building $name"
  root=$(mktemp -d /var/tmp/fdr-image.XXXXXX)
  tar -C "$root" -xf "$CACHE/bookworm.tar"
  mkdir -p "$root/usr/share/dotnet/shared/Microsoft.NETCore.App"
  cp -a "$dotnet_root/dotnet" "$dotnet_root/host" "$root/usr/share/dotnet/"
  cp -a "$runtime" "$root/usr/share/dotnet/shared/Microsoft.NETCore.App/"
  ln -s /usr/share/dotnet/dotnet "$root/usr/bin/dotnet"
  chroot "$root" /usr/sbin/useradd --uid 1654 --user-group --create-home --home-dir /home/app app
  rm -rf "$root/var/lib/apt/lists"/* "$root/var/cache/apt"/*.bin
  tar -C "$root" -cf "$root.tar" .
  quiet podman import --change 'ENV DOTNET_ROOT=/usr/share/dotnet' --change 'CMD ["/usr/bin/dotnet","--info"]' "$root.tar" "$name"
  rm -rf "$root" "$root.tar"
}
build_dotnet_runtime

printf 'export DOCKER_HOST=unix://%s TESTCONTAINERS_RYUK_DISABLED=true\n' "$SOCK" >"$ENV_FILE"
