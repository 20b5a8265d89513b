#!/usr/bin/env bash
# Turn a fresh Raspberry Pi OS (Bookworm, 64-bit) into a Hearth gateway. Run as root from a
# Hearth checkout:   sudo deploy/raspberrypi/install.sh            (add --dry-run to see every step)
#
# Safe to run again: every step checks first and changes only what differs, so a second run
# changes nothing, and a run after `git pull` upgrades Hearth and keeps the data and learned routines.
#
# Options:
#   --dry-run        print every step, change nothing
#   --root DIR       install into DIR instead of / (a DESTDIR-style prefix, for tests and images);
#                    also DESTDIR=DIR. apt packages are not installed into a prefix.
#   --no-packages    skip apt-get (packages already there, or a prefix)
#   --skip-pip       create the venv but do not pip install Hearth into it
#   --wheels DIR     pip install offline from a folder of wheels (no network needed)
#   --no-enable      do not enable or start the services
# Environment (for tests and odd hardware): HEARTH_ARCH, HEARTH_USERLAND_ARCH (override `uname -m`
# and `dpkg --print-architecture`), HEARTH_MIN_FREE_MB (default 1024), HEARTH_SERIAL_DIR
# (default /dev/serial/by-id), HEARTH_NET_HOST (host looked up to tell whether there is network).
set -Eeuo pipefail

SOURCE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DEPLOY_DIR="$SOURCE_DIR/deploy/raspberrypi"
ROOT=${DESTDIR:-/}
DRY_RUN=0
PACKAGES=1
PIP=1
WHEELS=""
ENABLE=1
CHANGES=0
MIN_FREE_MB=${HEARTH_MIN_FREE_MB:-1024}
SERIAL_DIR=${HEARTH_SERIAL_DIR:-/dev/serial/by-id}
NET_HOST=${HEARTH_NET_HOST:-deb.debian.org}
APT_PACKAGES=(mosquitto mosquitto-clients bluez python3 python3-venv sqlite3)
ARGS=("$@")

say() { printf 'hearth-install: %s\n' "$*"; }
warn() { printf 'hearth-install: WARNING: %s\n' "$*" >&2; }
die() {
    # $1 = what is wrong, $2 = the step to take
    printf 'hearth-install: ERROR: %s\n  What to do: %s\n' "$1" "$2" >&2
    exit "${3:-1}"
}

while (($#)); do
    case "$1" in
        --dry-run) DRY_RUN=1 ;;
        --root) ROOT=${2:?--root needs a directory}; shift ;;
        --root=*) ROOT=${1#--root=} ;;
        --no-packages) PACKAGES=0 ;;
        --skip-pip) PIP=0 ;;
        --wheels) WHEELS=${2:?--wheels needs a directory}; shift ;;
        --no-enable) ENABLE=0 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown option $1" "run $0 --help" 2 ;;
    esac
    shift
done
ROOT=${ROOT%/}
[[ -z "$ROOT" ]] && ROOT=/
R=${ROOT%/}  # prefix for paths: "" for the real system

# ---- checks that stop at once ------------------------------------------------------------------

# 32-bit refusal: river, numpy, scipy and scikit-learn publish no 32-bit ARM wheels, so pip would
# try to compile them on the Pi for hours and fail. Raspberry Pi OS 32-bit may run a 64-bit kernel
# (uname -m says aarch64) over a 32-bit userland (dpkg says armhf), so both are checked.
check_arch() {
    local kernel=${HEARTH_ARCH:-$(uname -m)}
    local userland=${HEARTH_USERLAND_ARCH:-$(dpkg --print-architecture 2>/dev/null || echo unknown)}
    case "$kernel" in
        aarch64|arm64|x86_64|amd64) ;;
        *) die "this is a 32-bit system ($kernel); Hearth needs a 64-bit OS because river, numpy, scipy and scikit-learn publish no 32-bit ARM wheels" \
               "flash Raspberry Pi OS (64-bit) Bookworm with Raspberry Pi Imager (needs a Pi 3, 4, 5 or Zero 2 W) and run this again" 3 ;;
    esac
    case "$userland" in
        arm64|amd64|unknown) ;;
        *) die "the kernel is 64-bit ($kernel) but the OS is 32-bit ($userland); Hearth needs a 64-bit OS because river, numpy, scipy and scikit-learn publish no 32-bit ARM wheels" \
               "flash Raspberry Pi OS (64-bit) Bookworm with Raspberry Pi Imager and run this again" 3 ;;
    esac
}

check_disk() {
    local probe=$ROOT free_mb
    while [[ ! -d "$probe" ]]; do probe=$(dirname "$probe"); done
    free_mb=$(df -Pm "$probe" | awk 'NR==2 {print $4}')
    if ((free_mb < MIN_FREE_MB)); then
        die "the SD card is full: ${free_mb} MB free on $probe, Hearth needs at least ${MIN_FREE_MB} MB" \
            "free space (sudo apt-get clean; sudo journalctl --vacuum-size=50M) or use a bigger card (32 GB or more), then run this again"
    fi
}

check_network() {
    # $1 = what needs the network
    if ! getent hosts "$NET_HOST" >/dev/null 2>&1; then
        die "no network: cannot reach $NET_HOST, needed to $1" \
            "connect the Pi to the internet (Ethernet, or Wi-Fi with: sudo raspi-config -> System Options -> Wireless LAN), then run this again; steps already done are kept"
    fi
}

on_error() {
    local line=$1 probe=$ROOT free_mb
    while [[ ! -d "$probe" ]]; do probe=$(dirname "$probe"); done
    free_mb=$(df -Pm "$probe" 2>/dev/null | awk 'NR==2 {print $4}')
    if [[ -n "$free_mb" ]] && ((free_mb < 50)); then
        printf 'hearth-install: ERROR: the SD card is full (%s MB free on %s)\n  What to do: free space (sudo apt-get clean; sudo journalctl --vacuum-size=50M) and run this again\n' "$free_mb" "$probe" >&2
    else
        printf 'hearth-install: ERROR: step failed at install.sh line %s (see above)\n  What to do: fix the cause shown above and run this again; finished steps are kept\n' "$line" >&2
    fi
}
trap 'on_error $LINENO' ERR

# ---- small idempotent helpers: each says what it changed, and changes nothing if all is right ---

changed() { CHANGES=$((CHANGES + 1)); say "$*"; }

run() {
    if ((DRY_RUN)); then say "would run: $*"; else say "run: $*"; "$@"; fi
}

id_of() {
    # numeric uid (passwd) or gid (group) of a name from the target root's files (root is always 0)
    [[ "$2" == root ]] && { echo 0; return; }
    awk -F: -v n="$2" '$1 == n {print $3}' "$R/etc/$1"
}

# set_mode_owner PATH MODE USER GROUP
set_mode_owner() {
    local path=$1 mode=$2 user=$3 group=$4 uid gid
    uid=$(id_of passwd "$user" 2>/dev/null || true); gid=$(id_of group "$group" 2>/dev/null || true)
    if [[ -z "$uid" || -z "$gid" ]]; then
        if ((DRY_RUN)); then say "would set $path to mode $mode owner $user:$group"; return; fi
        uid=0; gid=0
        warn "no $user:$group in $R/etc: $path stays root-owned"
    fi
    if [[ $(stat -c '%a' "$path") != "${mode#0}" ]]; then
        if ((DRY_RUN)); then say "would set mode $mode on $path"; else chmod "$mode" "$path"; changed "mode $mode: $path"; fi
    fi
    if [[ $(stat -c '%u:%g' "$path") != "$uid:$gid" ]]; then
        if ((DRY_RUN)); then
            say "would set owner $user:$group on $path"
        elif ((EUID == 0)); then
            chown "$uid:$gid" "$path"; changed "owner $user:$group: $path"
        else
            # not allowed to chown here: record the intended owner for whoever builds the image
            printf '%s %s:%s %s\n' "$mode" "$user" "$group" "${path#"$R"}" >>"$R/hearth-install.manifest"
        fi
    fi
}

# ensure_dir PATH MODE USER GROUP      (PATH without the root prefix)
ensure_dir() {
    if [[ ! -d "$R$1" ]]; then
        if ((DRY_RUN)); then say "would create directory $1"; else mkdir -p "$R$1"; changed "created $1"; fi
    fi
    [[ -d "$R$1" ]] && set_mode_owner "$R$1" "$2" "$3" "$4"
    return 0
}

# ensure_file SRC DEST MODE USER GROUP  (copy only if the content differs)
ensure_file() {
    local src=$1 dest=$R$2
    if [[ ! -f "$dest" ]] || ! cmp -s "$src" "$dest"; then
        if ((DRY_RUN)); then say "would install $2 from ${src#"$SOURCE_DIR"/}"; return; fi
        mkdir -p "$(dirname "$dest")"
        cp "$src" "$dest"
        changed "installed $2"
    fi
    set_mode_owner "$dest" "$3" "$4" "$5"
}

# ensure_secret DEST MODE USER GROUP   (generate once; never printed, never replaced)
ensure_secret() {
    local dest=$R$1
    if [[ ! -s "$dest" ]]; then
        if ((DRY_RUN)); then say "would generate a random secret in $1"; return; fi
        mkdir -p "$(dirname "$dest")"
        (umask 077; head -c 24 /dev/urandom | base64 | tr -d '/+=\n' >"$dest")
        changed "generated secret $1"
    fi
    set_mode_owner "$dest" "$2" "$3" "$4"
}

# ---- the steps --------------------------------------------------------------------------------

step_packages() {
    if ((!PACKAGES)) || [[ "$ROOT" != / ]]; then say "skip: apt packages (${APT_PACKAGES[*]})"; return; fi
    local missing=() p
    for p in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    ((${#missing[@]} == 0)) && return
    check_network "install ${missing[*]} with apt-get"
    run apt-get update -qq
    if ((DRY_RUN)); then say "would install: ${missing[*]}"; return; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
    changed "installed packages: ${missing[*]}"
}

# ensure_user NAME HOME [EXTRA_GROUP...]: a system user with its own group and no login
ensure_user() {
    local name=$1 home=$2 g
    shift 2
    if ! grep -q "^$name:" "$R/etc/passwd" 2>/dev/null; then
        if ((DRY_RUN)); then say "would create system user $name"; else
            local prefix=()
            if [[ "$ROOT" != / ]]; then
                prefix=(--prefix "$ROOT")
                mkdir -p "$R/etc"
                for f in passwd group shadow gshadow; do [[ -e "$R/etc/$f" ]] || : >"$R/etc/$f"; done
            fi
            useradd "${prefix[@]}" --system --user-group --no-create-home --home-dir "$home" \
                --shell /usr/sbin/nologin --comment "Hearth gateway" "$name"
            changed "created system user $name"
        fi
    fi
    for g in "$@"; do
        grep -q "^$g:" "$R/etc/group" 2>/dev/null || continue  # e.g. no bluez in a bare prefix
        if ! awk -F: -v g="$g" -v u="$name" '$1 == g {n = split($4, m, ","); for (i = 1; i <= n; i++) if (m[i] == u) found = 1} END {exit !found}' "$R/etc/group"; then
            if ((DRY_RUN)); then say "would add $name to group $g"; continue; fi
            if [[ "$ROOT" != / ]]; then usermod --prefix "$ROOT" -a -G "$g" "$name"; else usermod -a -G "$g" "$name"; fi
            changed "added $name to group $g"
        fi
    done
}

step_dirs() {
    ensure_dir /opt/hearth 0755 root root
    ensure_dir /opt/hearth/docs 0755 root root
    ensure_dir /etc/hearth 0750 root hearth
    ensure_dir /etc/hearth/secrets 0750 root hearth
    ensure_dir /var/lib/hearth 0700 hearth hearth
    ensure_dir /var/lib/hearth/backups 0700 hearth hearth
}

step_secrets_and_config() {
    ensure_secret /etc/hearth/secrets/mqtt_password 0640 root hearth
    ensure_secret /etc/hearth/secrets/zigbee2mqtt_mqtt_password 0600 root root
    if [[ ! -f "$R/etc/hearth/home.yaml" ]]; then
        # a starting config that passes `hearth check-config`; the technician edits people and sensors
        local tz tmp
        tz=$(cat "$R/etc/timezone" 2>/dev/null || true)
        [[ "$tz" =~ ^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$ ]] || tz=Europe/London
        tmp=$(mktemp)
        sed "s|@TIMEZONE@|$tz|" "$DEPLOY_DIR/home.example.yaml" >"$tmp"
        ensure_file "$tmp" /etc/hearth/home.yaml 0640 root hearth
        rm -f "$tmp"
    else
        set_mode_owner "$R/etc/hearth/home.yaml" 0640 root hearth  # never overwrite the home's config
    fi
}

step_mosquitto() {
    ensure_file "$DEPLOY_DIR/mosquitto/hearth.conf" /etc/mosquitto/conf.d/hearth.conf 0644 root root
    local pw=$R/etc/mosquitto/hearth.passwd group=root user
    grep -q '^mosquitto:' "$R/etc/group" 2>/dev/null && group=mosquitto
    if ((DRY_RUN)); then say "would add users hearth and zigbee2mqtt to /etc/mosquitto/hearth.passwd"; return; fi
    command -v mosquitto_passwd >/dev/null || die "mosquitto_passwd is missing" "sudo apt-get install mosquitto, then run this again"
    [[ -f "$pw" ]] || { (umask 077; : >"$pw"); changed "created /etc/mosquitto/hearth.passwd"; }
    for user in hearth zigbee2mqtt; do
        local secret=$R/etc/hearth/secrets/mqtt_password
        [[ $user == zigbee2mqtt ]] && secret=$R/etc/hearth/secrets/zigbee2mqtt_mqtt_password
        # mosquitto_passwd salts every time, so only (re)write a user that is missing or whose
        # secret is newer than the password file
        if ! grep -q "^$user:" "$pw" || [[ "$secret" -nt "$pw" ]]; then
            mosquitto_passwd -b "$pw" "$user" "$(cat "$secret")"
            changed "set the broker password of $user"
        fi
    done
    set_mode_owner "$pw" 0640 root "$group"
}

step_journald() {
    ensure_file "$DEPLOY_DIR/systemd/journald-hearth.conf" /etc/systemd/journald.conf.d/hearth.conf 0644 root root
}

source_stamp() {
    # what is installed: the version plus the git commit, so an upgrade reinstalls and a re-run does not
    local version commit
    version=$(awk -F'"' '/^version *=/ {print $2; exit}' "$SOURCE_DIR/pyproject.toml")
    commit=$(git -C "$SOURCE_DIR" rev-parse HEAD 2>/dev/null || echo unknown)
    printf '%s %s\n' "$version" "$commit"
}

step_venv() {
    local venv=/opt/hearth/venv stamp
    stamp=$(source_stamp)
    # ask for the network before spending time on the venv, if pip will have to download
    if ((PIP)) && [[ -z "$WHEELS" ]] && [[ "$(cat "$R/opt/hearth/installed" 2>/dev/null)" != "$stamp" ]]; then
        check_network "download Hearth's Python packages with pip"
    fi
    if [[ ! -x "$R$venv/bin/python" ]]; then
        if ((DRY_RUN)); then say "would create venv $venv"; else
            local without_pip=()
            ((PIP)) || without_pip=(--without-pip)
            python3 -m venv "${without_pip[@]}" "$R$venv"
            changed "created venv $venv"
        fi
    fi
    if ((!PIP)); then say "skip: pip install of Hearth into $venv (--skip-pip)"; return; fi
    if [[ -f "$R/opt/hearth/installed" ]] && [[ "$(cat "$R/opt/hearth/installed")" == "$stamp" ]]; then return; fi
    local pip_args=()
    [[ -n "$WHEELS" ]] && pip_args=(--no-index --find-links "$WHEELS")
    if ((DRY_RUN)); then say "would pip install $SOURCE_DIR into $venv"; return; fi
    "$R$venv/bin/python" -m pip install -q --disable-pip-version-check "${pip_args[@]}" "$SOURCE_DIR" ||
        die "pip could not install Hearth (see above)" "check the network and free space, then run this again"
    printf '%s\n' "$stamp" >"$R/opt/hearth/installed"
    changed "installed Hearth $stamp into $venv"
}

step_links_and_docs() {
    ensure_file "$SOURCE_DIR/docs/raspberrypi.md" /opt/hearth/docs/raspberrypi.md 0644 root root
    if [[ "$(readlink "$R/usr/local/bin/hearth" 2>/dev/null)" != /opt/hearth/venv/bin/hearth ]]; then
        if ((DRY_RUN)); then say "would link /usr/local/bin/hearth"; else
            mkdir -p "$R/usr/local/bin"
            ln -sfn /opt/hearth/venv/bin/hearth "$R/usr/local/bin/hearth"
            changed "linked /usr/local/bin/hearth"
        fi
    fi
}

step_zigbee2mqtt() {
    local devices=() node_major=0
    if [[ -d "$SERIAL_DIR" ]]; then mapfile -t devices < <(find "$SERIAL_DIR" -mindepth 1 -maxdepth 1 | sort); fi
    if ((${#devices[@]} == 0)); then
        warn "no Zigbee USB coordinator found in $SERIAL_DIR. What to do: plug the coordinator (e.g. SONOFF ZBDongle-E or -P) into the Pi on a short USB extension cable (away from USB 3 ports and the Pi's Wi-Fi), then run this again. A BLE-only home can go on without it."
    else
        say "Zigbee coordinator: ${devices[0]}"
    fi
    if command -v node >/dev/null; then node_major=$(node --version | sed 's/^v\([0-9]*\).*/\1/'); fi
    if [[ ! -f "$R/opt/zigbee2mqtt/package.json" ]]; then
        say "zigbee2mqtt is not installed. It needs Node.js 22 or newer (found: ${node_major/#0/none}). To install it:"
        say "  1. Node.js 22: follow https://github.com/nodesource/distributions (deb.nodesource.com, node_22.x), then: sudo apt-get install -y nodejs"
        say "  2. sudo git clone --depth 1 https://github.com/Koenkk/zigbee2mqtt.git /opt/zigbee2mqtt && cd /opt/zigbee2mqtt && sudo corepack enable && sudo pnpm install --frozen-lockfile && sudo pnpm run build"
        say "  3. run this script again: it creates the zigbee2mqtt user, its configuration and service"
        return
    fi
    ((node_major >= 22)) || warn "zigbee2mqtt 2.x needs Node.js 22 or newer, found ${node_major/#0/none}. What to do: install node_22.x from deb.nodesource.com, then run this again."
    ensure_user zigbee2mqtt /opt/zigbee2mqtt dialout
    ensure_dir /opt/zigbee2mqtt/data 0700 zigbee2mqtt zigbee2mqtt
    if [[ ! -f "$R/opt/zigbee2mqtt/data/configuration.yaml" ]]; then
        local tmp
        tmp=$(mktemp)
        sed "s|@SERIAL_PORT@|${devices[0]:-/dev/ttyUSB0}|" "$DEPLOY_DIR/zigbee2mqtt/configuration.yaml" >"$tmp"
        ensure_file "$tmp" /opt/zigbee2mqtt/data/configuration.yaml 0600 zigbee2mqtt zigbee2mqtt
        rm -f "$tmp"
    fi
    if [[ ! -f "$R/opt/zigbee2mqtt/data/secret.yaml" ]] && ((!DRY_RUN)); then
        (umask 077; printf 'mqtt_password: %s\n' "$(cat "$R/etc/hearth/secrets/zigbee2mqtt_mqtt_password")" >"$R/opt/zigbee2mqtt/data/secret.yaml")
        changed "wrote /opt/zigbee2mqtt/data/secret.yaml"
    fi
    [[ -f "$R/opt/zigbee2mqtt/data/secret.yaml" ]] && set_mode_owner "$R/opt/zigbee2mqtt/data/secret.yaml" 0600 zigbee2mqtt zigbee2mqtt
    ensure_file "$DEPLOY_DIR/systemd/zigbee2mqtt.service" /etc/systemd/system/zigbee2mqtt.service 0644 root root
}

step_units() {
    ensure_file "$DEPLOY_DIR/systemd/hearth.service" /etc/systemd/system/hearth.service 0644 root root
}

step_enable() {
    if ((!ENABLE)); then say "skip: enabling services (--no-enable)"; return; fi
    local units=(hearth.service) unit
    [[ -f "$R/etc/systemd/system/zigbee2mqtt.service" ]] && units+=(zigbee2mqtt.service)
    [[ "$ROOT" == / ]] && units+=(mosquitto.service)
    for unit in "${units[@]}"; do
        if [[ "$ROOT" != / ]]; then
            # offline: makes the same symlinks systemd would, inside the prefix
            if ! systemctl --root="$ROOT" is-enabled --quiet "$unit" 2>/dev/null; then
                run systemctl --root="$ROOT" --quiet enable "$unit"
                ((DRY_RUN)) || changed "enabled $unit"
            fi
        elif ! systemctl is-enabled --quiet "$unit" 2>/dev/null; then
            run systemctl enable --quiet "$unit"
            ((DRY_RUN)) || changed "enabled $unit"
        fi
    done
    if [[ "$ROOT" == / ]] && [[ -d /run/systemd/system ]] && ((!DRY_RUN)); then
        # pick up new unit files and the journald limits; (re)start only what changed
        systemctl daemon-reload
        if ((CHANGES)); then
            systemctl restart systemd-journald mosquitto
            systemctl restart hearth || warn "hearth did not start. What to do: sudo hearth doctor --config /etc/hearth/home.yaml"
        fi
    fi
}

main() {
    check_arch
    check_disk
    ((DRY_RUN)) && say "dry run: nothing will be changed"
    say "installing Hearth from $SOURCE_DIR into $ROOT"
    if ((EUID != 0)) && [[ "$ROOT" == / ]] && ((!DRY_RUN)); then
        die "must run as root to install into /" "run: sudo $0 ${ARGS[*]}"
    fi
    step_packages
    ensure_user hearth /var/lib/hearth bluetooth
    step_dirs
    step_secrets_and_config
    step_mosquitto
    step_journald
    step_venv
    step_links_and_docs
    step_units
    step_zigbee2mqtt
    step_enable
    if ((DRY_RUN)); then say "dry run finished: nothing was changed"; else say "done: $CHANGES change(s)"; fi
    say "next: edit /etc/hearth/home.yaml, then: hearth check-config /etc/hearth/home.yaml && sudo -u hearth hearth doctor --config /etc/hearth/home.yaml"
}

main "$@"
