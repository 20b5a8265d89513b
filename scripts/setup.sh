#!/usr/bin/env bash
# Set up Hearth on a fresh Debian / Raspberry Pi OS machine: system packages where missing
# (mosquitto; with --test also Chromium for the console tests), a venv in .venv, and Hearth in it.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

with_test=0
[[ "${1:-}" == "--test" ]] && with_test=1

need_apt=()
command -v mosquitto >/dev/null 2>&1 || [[ -x /usr/sbin/mosquitto ]] || need_apt+=(mosquitto)
if (( with_test )); then
    command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
    command -v shellcheck >/dev/null 2>&1 || need_apt+=(shellcheck)
    command -v systemd-analyze >/dev/null 2>&1 || need_apt+=(systemd)
fi
python3 -c 'import venv, ensurepip' 2>/dev/null || need_apt+=(python3-venv)

if (( ${#need_apt[@]} )); then
    sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    echo "setup: installing ${need_apt[*]} with apt-get"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
# Debian starts mosquitto as a system service on install; Hearth's tests start their own on free ports.

if [[ ! -x .venv/bin/python ]]; then
    python3 -m venv .venv
fi
extra=""
(( with_test )) && extra="[test]"
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extra}" 2>&1 | grep -v '^WARNING: Location' || true
.venv/bin/python -c 'import gateway, sensors, routines, alerts' 
echo "setup: ready (.venv/bin/hearth)"
