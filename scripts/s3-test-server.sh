#!/usr/bin/env bash
# A throwaway single-node OpenStack Swift with the s3api middleware, for the S3 test suites.
# Swift checks SigV4 signatures and does Range, multipart, CopyObject and presigned URLs, so the
# S3 blob store is tested against a real server; MinIO and friends are not in Debian.
#
#   usage: scripts/s3-test-server.sh start|stop [DIR]     (DIR defaults to $TMPDIR/mediagate-s3)
#
# Endpoint http://127.0.0.1:${PORT:-8089}, access key "test:tester", secret "testing", region
# us-east-1, path-style addressing. Bound to 127.0.0.1 only.
# `start` is idempotent: when something already answers on the port it does nothing, so CI and
# developers can call it before every run. Installs its Debian packages when they are missing
# (root, apt). Swift 2.30 answers 501 to the AWS SDK's default aws-chunked uploads: clients must
# set requestChecksumCalculation: 'WHEN_REQUIRED'.
set -euo pipefail
CMD=${1:-start}
DIR=${2:-${TMPDIR:-/tmp}/mediagate-s3}
PORT=${PORT:-8089}
MC_PORT=${MC_PORT:-11219}
PACKAGES=(swift-proxy swift-account swift-container swift-object memcached curl)
SERVICES=(proxy object container account memcached)

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

stop() {
  for n in "${SERVICES[@]}"; do
    local pidfile="$DIR/run/$n.pid"
    if [ -f "$pidfile" ]; then
      kill "$(cat "$pidfile")" 2>/dev/null || true
      rm -f "$pidfile"
    fi
  done
}

install_packages() {
  if command -v swift-proxy-server >/dev/null && command -v memcached >/dev/null && command -v curl >/dev/null; then return; fi
  echo "installing ${PACKAGES[*]} (Debian packages)"
  # A fresh machine has no package lists; updating only when needed keeps later starts fast.
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
  fi
}

write_rings() {
  cd "$DIR/etc"
  for t in account container object; do swift-ring-builder "$t.builder" create 10 1 1 >/dev/null; done
  swift-ring-builder account.builder add r1z1-127.0.0.1:6312/d1 1 >/dev/null
  swift-ring-builder container.builder add r1z1-127.0.0.1:6311/d1 1 >/dev/null
  swift-ring-builder object.builder add r1z1-127.0.0.1:6310/d1 1 >/dev/null
  # rebalance exits 1 with a warning on a one-device ring although the ring is written
  for t in account container object; do swift-ring-builder "$t.builder" rebalance >/dev/null 2>&1 || true; done
}

write_configs() {
  local user; user=$(id -un)
  for t in account:6312 container:6311 object:6310; do
    local n=${t%%:*} p=${t##*:}
    cat >"$DIR/etc/$n-server.conf" <<CONF
[DEFAULT]
user = $user
devices = $DIR/srv/node
mount_check = false
disable_fallocate = true
bind_ip = 127.0.0.1
bind_port = $p
workers = 1
swift_dir = $DIR/etc
log_level = WARNING
[pipeline:main]
pipeline = $n-server
[app:$n-server]
use = egg:swift#$n
CONF
  done
  cat >"$DIR/etc/proxy-server.conf" <<CONF
[DEFAULT]
user = $user
bind_ip = 127.0.0.1
bind_port = $PORT
workers = 1
swift_dir = $DIR/etc
log_level = WARNING
[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats s3api tempauth copy slo dlo proxy-logging proxy-server
[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin
[filter:s3api]
use = egg:swift#s3api
location = us-east-1
[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$MC_PORT
[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:copy]
use = egg:swift#copy
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
CONF
}

start() {
  if port_open "$PORT"; then
    echo "something already answers on 127.0.0.1:$PORT; leaving it alone"
    return 0
  fi
  install_packages
  stop
  rm -rf "$DIR"
  mkdir -p "$DIR/etc" "$DIR/srv/node/d1" "$DIR/run" "$DIR/log"
  write_rings
  write_configs
  # Started in the background by us (not daemonized) so the pid files are the real processes.
  memcached -l 127.0.0.1 -p "$MC_PORT" -U 0 -u "$(id -un)" >"$DIR/log/memcached.log" 2>&1 &
  echo $! >"$DIR/run/memcached.pid"
  # -v logs to stdout; without it Swift logs to /dev/log, which containers often lack.
  for n in account container object proxy; do
    nohup "/usr/bin/swift-$n-server" "$DIR/etc/$n-server.conf" -v >"$DIR/log/$n.log" 2>&1 &
    echo $! >"$DIR/run/$n.pid"
  done
  for _ in $(seq 1 200); do
    if curl -fs "http://127.0.0.1:$PORT/healthcheck" >/dev/null 2>&1 &&
      port_open 6310 && port_open 6311 && port_open 6312 && port_open "$MC_PORT"; then
      echo "S3 (Swift s3api) up on http://127.0.0.1:$PORT"
      return 0
    fi
    sleep 0.1
  done
  echo "Swift did not come up within 20 s; see $DIR/log" >&2
  stop
  return 1
}

case "$CMD" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop [DIR]" >&2; exit 2 ;;
esac
