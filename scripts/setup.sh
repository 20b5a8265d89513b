#!/usr/bin/env bash
# Set up Hearth on a fresh Debian / Raspberry Pi OS machine: system packages where missing
# (mosquitto; with --test also Chromium for the browser tests and PostgreSQL for the hub's), a venv in .venv, and Hearth in it.
# Safe to run again: it only installs what is missing. A failure or Ctrl-C stops it with a message
# (nothing half-done is taken for done: running it again picks up where it stopped).
set -Eeuo pipefail
cd "$(dirname "$0")/.."

die() { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }
# pip turns Ctrl-C into an ordinary exit 1, so only this trap tells an interrupt from a failure
trap 'printf "\nsetup: interrupted (Ctrl-C): stopped; run it again to finish\n" >&2; exit 130' INT TERM
trap 'printf "setup: ERROR: failed at scripts/setup.sh line %s (see above)\n" "$LINENO" >&2' ERR

with_test=0
[[ "${1:-}" == "--test" ]] && with_test=1

need_apt=()
command -v mosquitto >/dev/null 2>&1 || [[ -x /usr/sbin/mosquitto ]] || need_apt+=(mosquitto)
if (( with_test )); then
    command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
    command -v shellcheck >/dev/null 2>&1 || need_apt+=(shellcheck)
    command -v systemd-analyze >/dev/null 2>&1 || need_apt+=(systemd)
    # the hub's PostgreSQL tests start their own server (initdb, pg_ctl) in a temp dir
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need_apt+=(postgresql)
fi
python3 -c 'import venv, ensurepip' 2>/dev/null || need_apt+=(python3-venv)

if (( ${#need_apt[@]} )); then
    sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    echo "setup: installing ${need_apt[*]} with apt-get"
    $sudo apt-get update -qq || die "apt-get update failed (see above): check the network, then run this again"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null ||
        die "apt-get could not install ${need_apt[*]} (see above)"
fi
# Debian starts mosquitto (and postgresql) as system services on install; Hearth's tests start their own
# on free ports.

if [[ ! -x .venv/bin/python ]]; then
    python3 -m venv .venv || die "could not create .venv (see above); is python3-venv installed?"
fi
extra=""
(( with_test )) && extra="[test,evaluate]"
# a newer pip is nice to have, not needed: offline, the venv's own pip does
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null 2>&1 ||
    echo "setup: note: could not upgrade pip (offline?); going on with the venv's own pip"
# grep only hides pip's venv-location notice; with pipefail the pipeline's status is pip's
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extra}" 2>&1 |
    { grep -v '^WARNING: Location' || true; } ||
    die "pip could not install Hearth${extra} into .venv (see above): check the network and free space, then run this again"
.venv/bin/python -c 'import gateway, sensors, routines, alerts' || die "Hearth does not import from .venv (see above)"
echo "setup: ready (.venv/bin/hearth)"
