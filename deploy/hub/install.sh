#!/usr/bin/env bash
# Install the wellbeing team's hub on a Debian 12 server (or a Pi in the office): the team's mosquitto
# with TLS, per-gateway passwords and the ACL, the hearth-hub user and service. Idempotent.
#   sudo deploy/hub/install.sh --cert /etc/ssl/hub.pem --key /etc/ssl/hub.key [--dry-run]
# Then for each home: sudo hearth hub add-home --dir /etc/hearth-hub/mosquitto HOME --host hub.example.org
set -euo pipefail
DRY=0 CERT="" KEY=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY=1 ;;
    --cert) CERT="$2"; shift ;;
    --key) KEY="$2"; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
run() { echo "+ $*"; [ "$DRY" = 1 ] || "$@"; }
if [ -z "$CERT" ] || [ -z "$KEY" ]; then
  echo "give --cert and --key (the broker's TLS certificate)" >&2
  exit 2
fi
HERE="$(cd "$(dirname "$0")/../.." && pwd)"
BROKER_DIR=/etc/hearth-hub/mosquitto
run apt-get install -y mosquitto python3-venv
id hearth-hub >/dev/null 2>&1 || run useradd --system --home /var/lib/hearth-hub --shell /usr/sbin/nologin hearth-hub
[ -x /opt/hearth/venv/bin/hearth ] || { run python3 -m venv /opt/hearth/venv; run /opt/hearth/venv/bin/pip install "$HERE"; }
run install -d -m 0750 -o root -g hearth-hub /etc/hearth-hub
if [ ! -f "$BROKER_DIR/mosquitto.conf" ]; then
  echo "+ hearth hub broker-config --dir $BROKER_DIR --port 8883 --cert $CERT --key $KEY"
  if [ "$DRY" = 0 ]; then
    out="$(/opt/hearth/venv/bin/hearth hub broker-config --dir "$BROKER_DIR" --port 8883 --cert "$CERT" --key "$KEY")"
    # the hub's own broker password goes to its password file, never to the terminal's scrollback
    echo "$out" | sed -n 's/.*hearth-hub \/ \([^ ]*\)$/\1/p' | install -m 0640 -o root -g hearth-hub /dev/stdin /etc/hearth-hub/broker.password
    chown -R mosquitto:mosquitto "$BROKER_DIR"
  fi
fi
run ln -sf "$BROKER_DIR/mosquitto.conf" /etc/mosquitto/conf.d/hearth-hub.conf
[ -f /etc/hearth-hub/hub.yaml ] || run install -m 0640 -o root -g hearth-hub "$HERE/deploy/hub/hub.example.yaml" /etc/hearth-hub/hub.yaml
run install -m 0644 "$HERE/deploy/hub/hearth-hub.service" /etc/systemd/system/hearth-hub.service
run systemctl daemon-reload
run systemctl restart mosquitto
run systemctl enable --now hearth-hub
echo "Now: hearth hub user add --db /var/lib/hearth-hub/hub.db NAME --role worker; hearth hub add-home for each home."
