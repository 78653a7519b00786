#!/usr/bin/env bash
# install.sh - install scanvault from an existing build directory.
#
#   deploy/install.sh [--prefix P] [--destdir D] [--build DIR] [--no-key]
#
# What it does, in order (docs/install.md explains every owner and mode):
#   1. the `scanvault` system user and group, the `scanvault-scanners`
#      group for the scanning stations, and the groups the default
#      configuration's [access] section names;
#   2. `cmake --install`: P/bin/scanvault and P/bin/scanvault-ocr (side by
#      side: scanvault starts the scanvault-ocr beside its own executable)
#      and the man page;
#   3. /etc/scanvault/scanvault.conf from deploy/scanvault.conf (an existing
#      one is never overwritten: the new default goes beside it as
#      scanvault.conf.dist);
#   4. the systemd unit, ExecStart= pointing at P/bin/scanvault;
#   5. the data directory /var/lib/scanvault with the layout of
#      `scanvault init`, and the inbox /srv/scanvault/inbox;
#   6. the key /etc/credstore/scanvault.key, only if there is none.
# Every step checks first and changes only what differs, so running it again
# changes nothing. It never builds: run deploy/setup.sh (or cmake) first.
#
# With --destdir D everything goes under D (a staging tree for a package or
# an image): no user is created and nothing is chowned (it says what would
# be), so it works without root. Without --destdir it installs into this
# machine and must run as root.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
prog=install.sh
# Directories made on the way (under /usr/local, /srv) must be readable by
# all, whatever root's umask; private things get explicit modes below.
umask 022

# Where the installed system expects its files. The unit and the default
# configuration name the same paths; change them there too if you change
# them here.
readonly CONF_DIR=/etc/scanvault
readonly CRED_DIR=/etc/credstore
readonly KEY_FILE=$CRED_DIR/scanvault.key
readonly DATA_DIR=/var/lib/scanvault
readonly INBOX_PARENT=/srv/scanvault
readonly INBOX=$INBOX_PARENT/inbox
readonly SERVICE_USER=scanvault
readonly SCANNER_GROUP=scanvault-scanners
# The groups of [access] in the default configuration: who may connect to
# the service's socket, and the roles. The service user is in the first, so
# that it can give its socket that group.
readonly SOCKET_GROUP=scanvault-users
readonly ROLE_GROUPS=(scanvault-admins scanvault-clerks scanvault-reviewers)
# The directories `scanvault init` makes under the data directory
# (cli/cmd_init.c and crypto/vault.c), parents first. keys/ is not among
# them: the key lives in $CRED_DIR.
readonly DATA_LAYOUT=(vault vault/objects vault/tmp index spool spool/claimed audit)

usage() {
    cat <<EOF
usage: deploy/install.sh [--prefix P] [--destdir D] [--build DIR] [--no-key]

Install scanvault from a build directory made by deploy/setup.sh or cmake.

  --prefix P    installation prefix of the programs (default /usr/local)
  --destdir D   install everything under D instead of / (a staging tree);
                no user is created and nothing is chowned, so no root needed
  --build DIR   the build directory (default: build/ at the top of the clone)
  --no-key      do not make a key (for images and packages: every machine
                must have its own key; make it there with 'scanvault init')
  -h, --help    this text

Run it again after an upgrade: it changes only what differs, never
overwrites /etc/scanvault/scanvault.conf, and never replaces a key.
See docs/install.md.
EOF
}

die() {
    echo "$prog: $*" >&2
    exit 1
}
say() { echo "$prog: $*"; }

prefix=/usr/local
destdir=
build=$top/build
make_key=1
while [ $# -gt 0 ]; do
    case $1 in
    --prefix) [ $# -ge 2 ] || die "--prefix needs a directory (e.g. --prefix /usr/local)"
        prefix=$2; shift 2 ;;
    --prefix=*) prefix=${1#*=}; shift ;;
    --destdir) [ $# -ge 2 ] || die "--destdir needs a directory (e.g. --destdir /tmp/stage)"
        destdir=$2; shift 2 ;;
    --destdir=*) destdir=${1#*=}; shift ;;
    --build) [ $# -ge 2 ] || die "--build needs a directory (e.g. --build build)"
        build=$2; shift 2 ;;
    --build=*) build=${1#*=}; shift ;;
    --no-key) make_key=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1' (see --help)" ;;
    esac
done

case $prefix in
/*) ;;
*) die "--prefix must be an absolute path (e.g. /usr/local), not '$prefix'" ;;
esac
prefix=${prefix%/}
[ -n "$prefix" ] || die "--prefix / is not supported: use --prefix /usr"
case $prefix in
*[[:space:]\|\&\\]*) die "--prefix must not contain spaces, '|', '&' or '\\'" ;;
esac

# is_live: installing into this machine (users, owners, the real /etc).
if [ -z "$destdir" ] || [ "$destdir" = / ]; then
    destdir=
    is_live=1
    [ "$(id -u)" -eq 0 ] ||
        die "installing into / needs root: run 'sudo deploy/install.sh', or give --destdir D to stage the files under D"
else
    is_live=0
    mkdir -p "$destdir" || die "cannot create the destdir $destdir: check the path and your permissions"
    destdir=$(cd "$destdir" && pwd)
fi

[ -d "$build" ] || die "no build directory $build: run deploy/setup.sh (or 'cmake -S . -B build && cmake --build build') first, or give --build DIR"
build=$(cd "$build" && pwd)
[ -f "$build/cmake_install.cmake" ] ||
    die "$build is not a cmake build directory: run deploy/setup.sh (or cmake) first, or give --build DIR"
for program in scanvault scanvault-ocr; do
    [ -x "$build/cli/$program" ] ||
        die "$build/cli/$program is missing: build first ('cmake --build $build')"
done
command -v cmake >/dev/null || die "cmake is not installed: run deploy/install-deps.sh"
# cmake --install writes install_manifest.txt into the build directory.
[ -w "$build" ] ||
    die "cannot write into $build (cmake --install records what it installed there): run install.sh as the user who built it, or as root"

cache_value() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt" 2>/dev/null; }
case $(cache_value SV_TEST_HOOKS) in
ON | on | 1 | TRUE | true)
    say "warning: $build has the OCR worker's test triggers compiled in (SV_TEST_HOOKS=ON);"
    say "         for production configure a build with -DSV_TEST_HOOKS=OFF and install that" ;;
esac
case $(cache_value SV_SANITIZE) in
ON | on | 1 | TRUE | true)
    say "warning: $build is a sanitizer build (SV_SANITIZE=ON): slow, for tests only" ;;
esac

# ---------------------------------------------------------------------------
# Helpers: each looks before it changes anything and says what it changed.

changes=0
staged_owners=()
changed() {
    changes=$((changes + 1))
    say "$*"
}

# owner_of PATH: "user:group" as names (numbers when unnamed).
owner_of() { stat -c '%U:%G' "$1"; }

# set_owner PATH USER:GROUP: chown on a live install; otherwise say what a
# live install would do.
set_owner() {
    local path=$1 want=$2
    if [ "$is_live" -eq 0 ]; then
        staged_owners+=("$want ${path#"$destdir"}")
        return
    fi
    if [ "$(owner_of "$path")" != "$want" ]; then
        chown -h "$want" "$path"
        changed "owner of $path set to $want"
    fi
}

set_mode() {
    local path=$1 want=$2
    if [ "$(stat -c '%04a' "$path")" != "$want" ]; then
        chmod "$want" "$path"
        changed "mode of $path set to $want"
    fi
}

# ensure_dir PATH MODE USER:GROUP
ensure_dir() {
    local path=$1 mode=$2 owner=$3
    if [ ! -d "$path" ]; then
        [ ! -e "$path" ] || die "$path exists and is not a directory: move it away and run again"
        mkdir -p "$path"
        changed "created $path"
    fi
    set_mode "$path" "$mode"
    set_owner "$path" "$owner"
}

# ensure_parent PATH: the parents of PATH, made 0755 (umask 022) like any
# system directory when missing (existing ones are left as they are).
ensure_parent() {
    local parent
    parent=$(dirname "$1")
    if [ ! -d "$parent" ]; then
        mkdir -p "$parent"
        changed "created $parent"
    fi
}

# install_file SRC DEST MODE USER:GROUP: copy when missing or different.
install_file() {
    local src=$1 dest=$2 mode=$3 owner=$4
    ensure_parent "$dest"
    if [ ! -f "$dest" ] || ! cmp -s "$src" "$dest"; then
        local verb=installed
        [ ! -e "$dest" ] || verb=updated
        cp "$src" "$dest.tmp.$$"
        chmod "$mode" "$dest.tmp.$$"
        mv -f "$dest.tmp.$$" "$dest"
        changed "$verb $dest"
    fi
    set_mode "$dest" "$mode"
    set_owner "$dest" "$owner"
}

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# ---------------------------------------------------------------------------
# 1. Users and groups.

if [ "$is_live" -eq 1 ]; then
    command -v useradd >/dev/null || die "useradd is missing: install the Debian package 'passwd'"
    for group in "$SERVICE_USER" "$SCANNER_GROUP" "$SOCKET_GROUP" "${ROLE_GROUPS[@]}"; do
        if ! getent group "$group" >/dev/null; then
            groupadd --system "$group"
            changed "created the system group $group"
        fi
    done
    if ! getent passwd "$SERVICE_USER" >/dev/null; then
        useradd --system --gid "$SERVICE_USER" --groups "$SOCKET_GROUP" --home-dir "$DATA_DIR" \
            --no-create-home --shell /usr/sbin/nologin --comment "scanvault intake service" \
            "$SERVICE_USER"
        changed "created the system user $SERVICE_USER (home $DATA_DIR, no login shell)"
    elif [[ " $(id -nG "$SERVICE_USER") " != *" $SOCKET_GROUP "* ]]; then
        usermod -a -G "$SOCKET_GROUP" "$SERVICE_USER"
        changed "added $SERVICE_USER to the group $SOCKET_GROUP"
    fi
else
    say "staged: a live install would create the system user and group $SERVICE_USER (home $DATA_DIR, shell /usr/sbin/nologin, also in $SOCKET_GROUP) and the groups $SCANNER_GROUP $SOCKET_GROUP ${ROLE_GROUPS[*]}"
fi

# ---------------------------------------------------------------------------
# 2. The programs and the man page: the build's own install rules. cmake
# copies a file only when it differs ("Up-to-date" otherwise).

if ! DESTDIR=$destdir cmake --install "$build" --prefix "$prefix" >"$scratch/cmake-install.log" 2>&1; then
    cat "$scratch/cmake-install.log" >&2
    die "cmake --install $build failed (above): rebuild ('cmake --build $build') and run again"
fi
while read -r line; do
    case $line in
    "-- Installing: "*) changed "installed ${line#-- Installing: }" ;;
    esac
done <"$scratch/cmake-install.log"
bin=$destdir$prefix/bin
for program in scanvault scanvault-ocr; do
    [ -x "$bin/$program" ] || die "cmake --install did not install $bin/$program: check the install() rules of $build"
done

# ---------------------------------------------------------------------------
# 3. The configuration. Never overwritten: it is the admin's.

conf_dir=$destdir$CONF_DIR
ensure_parent "$conf_dir"
ensure_dir "$conf_dir" 0750 "root:$SERVICE_USER"
conf=$conf_dir/scanvault.conf
if [ ! -e "$conf" ]; then
    install_file "$top/deploy/scanvault.conf" "$conf" 0640 "root:$SERVICE_USER"
elif cmp -s "$top/deploy/scanvault.conf" "$conf"; then
    set_mode "$conf" 0640
    set_owner "$conf" "root:$SERVICE_USER"
else
    say "kept your $conf (it differs from the default); the new default is $conf.dist:"
    say "  compare them with 'diff $conf.dist $conf' and merge what you need"
    install_file "$top/deploy/scanvault.conf" "$conf.dist" 0640 "root:$SERVICE_USER"
fi

# ---------------------------------------------------------------------------
# 4. The systemd unit. systemd reads units from /usr/local/lib/systemd/system
# and /usr/lib/systemd/system; any other prefix puts it in /etc. Local
# changes belong in a drop-in, so an upgrade may replace this file.

case $prefix in
/usr | /usr/local) unit_dir=$prefix/lib/systemd/system ;;
*) unit_dir=/etc/systemd/system ;;
esac
sed "s|^ExecStart=/usr/local/bin/scanvault |ExecStart=$prefix/bin/scanvault |" \
    "$top/deploy/systemd/scanvault.service" >"$scratch/scanvault.service"
grep -q "^ExecStart=$prefix/bin/scanvault run " "$scratch/scanvault.service" ||
    die "deploy/systemd/scanvault.service has no 'ExecStart=/usr/local/bin/scanvault run' line to adapt: restore it from git"
install_file "$scratch/scanvault.service" "$destdir$unit_dir/scanvault.service" 0644 root:root

# ---------------------------------------------------------------------------
# 5. The data directory and the inbox.

data=$destdir$DATA_DIR
ensure_parent "$data"
ensure_dir "$data" 0700 "$SERVICE_USER:$SERVICE_USER"

# The inbox: scanning stations (group scanvault-scanners) may create files
# (-wx) but not list the folder (no r) nor remove or rename what others
# dropped (sticky bit); the service user owns it, so it can list it and move
# any file out. No setgid: files keep the writer's own group, so other
# stations get no group access to them.
inbox=$destdir$INBOX
ensure_parent "$destdir$INBOX_PARENT"
ensure_dir "$destdir$INBOX_PARENT" 0755 root:root
is_foreign_inbox=0
if [ -d "$inbox" ] && [ "$is_live" -eq 1 ] &&
    { [ "$(owner_of "$inbox")" != "$SERVICE_USER:$SCANNER_GROUP" ] ||
        [ "$(stat -c '%04a' "$inbox")" != 1730 ]; }; then
    # It may be a share mounted here and set up on purpose: leave it.
    is_foreign_inbox=1
    say "warning: $inbox is $(stat -c '%04a %U:%G' "$inbox"), not 1730 $SERVICE_USER:$SCANNER_GROUP; left as it is."
    say "  If it is a local folder: chown $SERVICE_USER:$SCANNER_GROUP $inbox && chmod 1730 $inbox,"
    say "  then run install.sh again for its ACL (docs/install.md, \"The inbox\")"
else
    ensure_dir "$inbox" 1730 "$SERVICE_USER:$SCANNER_GROUP"
fi
# A default ACL gives each new file read access for the service user and
# none for anyone else, whatever the writer's umask (docs/install.md).
inbox_acl="d:u::rw-,d:u:$SERVICE_USER:r--,d:g::---,d:m::r--,d:o::---"
if [ "$is_foreign_inbox" -eq 1 ]; then
    : # left as it is, ACL included
elif [ "$is_live" -eq 0 ]; then
    say "staged: a live install would set the default ACL $inbox_acl on ${inbox#"$destdir"}"
elif ! command -v setfacl >/dev/null; then
    say "warning: setfacl is missing, so files in $inbox need o+r for the service to read them"
    say "  (and other stations could read a file whose name they guess): 'apt-get install acl', then run again"
else
    before=$(getfacl -cp "$inbox" 2>/dev/null || true)
    if setfacl -m "$inbox_acl" "$inbox" 2>"$scratch/setfacl.err"; then
        [ "$before" = "$(getfacl -cp "$inbox")" ] || changed "set the default ACL of $inbox"
    else
        say "warning: cannot set a default ACL on $inbox ($(cat "$scratch/setfacl.err")):"
        say "  mount its file system with ACL support, or files need o+r there (docs/install.md)"
    fi
fi

# ---------------------------------------------------------------------------
# 6. The key, then the rest of the layout.

key=$destdir$KEY_FILE
ensure_parent "$destdir$CRED_DIR"
ensure_dir "$destdir$CRED_DIR" 0700 root:root
if [ -e "$key" ]; then
    set_mode "$key" 0600
    set_owner "$key" root:root
elif [ "$make_key" -eq 0 ]; then
    say "no key made (--no-key): make one on the machine that runs the service:"
    say "  scanvault init --data $DATA_DIR --key $KEY_FILE"
elif [ -n "$(find "$data/vault/objects" -type f -print -quit 2>/dev/null)" ]; then
    die "$data holds vault objects but there is no key $key: a new key cannot read them. Restore the key from its backup to $KEY_FILE (root, mode 0600) and run again."
else
    # `scanvault init` keeps existing directories and refuses to overwrite a
    # key; it makes the layout and the key in one go.
    if ! "$bin/scanvault" init --data "$data" --key "$key" >"$scratch/init.log" 2>&1; then
        cat "$scratch/init.log" >&2
        die "scanvault init failed (above): fix the cause and run install.sh again"
    fi
    key_id=$(sed -n 's/^key id \([0-9a-f]*\) .*/\1/p' "$scratch/init.log")
    changed "made the key ${key_id:+(id $key_id) }$key"
    set_mode "$key" 0600
    set_owner "$key" root:root
    if [ "$is_live" -eq 1 ]; then
        say "BACK UP $KEY_FILE NOW, apart from the vault's backups: without it no document can be read."
    else
        say "the staging tree now holds a key: never ship it in a package or an image (use --no-key for those)"
    fi
fi
for sub in "${DATA_LAYOUT[@]}"; do
    ensure_dir "$data/$sub" 0700 "$SERVICE_USER:$SERVICE_USER"
done

# ---------------------------------------------------------------------------

if [ "${#staged_owners[@]}" -gt 0 ]; then
    say "staged: nothing was chowned; a live install sets these owners:"
    printf '  %s\n' "${staged_owners[@]}"
fi
if [ "$changes" -eq 0 ]; then
    say "nothing to change: ${destdir:-this machine} already has this installation"
else
    say "$changes change(s) made under ${destdir:-/}"
fi
if [ "$is_live" -eq 1 ]; then
    say "next: add each scanning station's account to $SCANNER_GROUP (usermod -aG $SCANNER_GROUP ACCOUNT),"
    say "      set your MRN rules in $CONF_DIR/scanvault.conf, then:"
    say "      systemctl daemon-reload && systemctl enable --now scanvault"
fi
