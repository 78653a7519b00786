#!/usr/bin/env bash
# deploy_container.sh - what can be checked of deploy/Containerfile without a
# container engine.
#
#   deploy_container.sh SOURCE_DIR
#
# Its packages are the list deploy/install-deps.sh reads (it copies that
# script and deploy/debian-packages.txt side by side and runs the script;
# no package is installed or named anywhere else in it); every path it
# copies exists and every directory the top-level CMakeLists.txt adds is
# among them; it installs with deploy/install.sh --no-key (no key in the
# image); it runs `scanvault run` as a user other than root, with the
# configuration's data directory and inbox as its volumes.
set -uo pipefail
top=$1
file=$top/deploy/Containerfile
. "$(dirname "$0")/deploy_lib.sh"
[ -f "$file" ] || {
    echo "deploy_container: $file is missing"
    exit 1
}
# Instructions with their continuation lines joined, comments dropped.
instructions=$(sed -e '/^[[:space:]]*#/d' "$file" | sed -e ':a' -e '/\\$/N; s/\\\n//; ta')
instruction() { grep -E "^[[:space:]]*$1[[:space:]]" <<<"$instructions"; }
runs=$(instruction RUN)
copies=$(instruction COPY)

check "based on Debian 12" 'instruction FROM | grep -Eq "^FROM[[:space:]]+(docker\.io/(library/)?)?debian:(12|bookworm)([[:space:]]|$)"'
copy_deps=$(grep -E 'deploy/install-deps\.sh' <<<"$copies" | head -1)
check "one COPY puts deploy/install-deps.sh and deploy/debian-packages.txt in the same directory" \
    '[ -n "$copy_deps" ] && grep -q "deploy/debian-packages.txt" <<<"$copy_deps"'
dest=$(awk '{ print $NF }' <<<"$copy_deps")
check "and a RUN runs that install-deps.sh, with no package of its own" \
    'grep -Eq "(^|[[:space:]&;])${dest%/}/install-deps\.sh([[:space:]]+--missing)?[[:space:]]*(&&|;|$)" <<<"$runs"'
check "install-deps.sh reads the debian-packages.txt beside it" \
    'grep -q "\$here/debian-packages.txt" "$top/deploy/install-deps.sh"'
check "no package is installed any other way (apt, apt-get, aptitude, dpkg, pip)" \
    '! grep -Eq "(apt|apt-get|aptitude)[[:space:]]+(-[^[:space:]]+[[:space:]]+)*install|dpkg[[:space:]]+(-i|--install)|pip3?[[:space:]]+install" <<<"$runs"'
# A word of a RUN line that is a package name and not a program the line
# runs would be a package named inline.
mapfile -t packages < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$top/deploy/debian-packages.txt" | grep -v '^$')
named=()
for package in "${packages[@]}"; do
    grep -Eq "(^|[[:space:]])${package}([[:space:]]|$)" <<<"$runs" &&
        ! grep -Eq "(^|[[:space:]&;])${package}[[:space:]]+-" <<<"$runs" && named+=("$package")
done
check "no package name appears as an argument in a RUN line" '[ "${#named[@]}" -eq 0 ] || { echo "named: ${named[*]}"; false; }'
check "the list has systemd (systemd-analyze for the tests)" 'printf "%s\n" "${packages[@]}" | grep -qx systemd'

missing=()
while read -r _ args; do
    read -ra words <<<"$args"
    for source_path in "${words[@]:0:${#words[@]}-1}"; do
        case $source_path in --*) continue ;; esac
        [ -e "$top/$source_path" ] || missing+=("$source_path")
    done
done <<<"$copies"
check "every path it copies exists" '[ "${#missing[@]}" -eq 0 ] || { echo "missing: ${missing[*]}"; false; }'
uncopied=()
for sub in $(sed -n 's/^[[:space:]]*add_subdirectory(\([^) ]*\).*/\1/p' "$top/CMakeLists.txt"); do
    grep -Eq "^COPY[[:space:]]+${sub}[[:space:]]" <<<"$copies" || uncopied+=("$sub")
done
check "every directory the top-level CMakeLists.txt adds is copied" \
    '[ "${#uncopied[@]}" -eq 0 ] || { echo "not copied: ${uncopied[*]}"; false; }'
check "it builds with the test triggers compiled out and installs with install.sh --no-key" \
    'grep -q -- "-DSV_TEST_HOOKS=OFF" <<<"$runs" && grep -Eq "deploy/install\.sh .*--no-key" <<<"$runs"'

user=$(instruction USER | tail -1 | awk '{ print $2 }')
check "the service runs as a user other than root" '[ -n "$user" ] && [ "$user" != root ] && [ "$user" != 0 ]'
conf_value() { sed -n "s/^$1 = //p" "$top/deploy/scanvault.conf"; }
volumes=$(instruction VOLUME)
check "the volumes are the configuration's data_dir and inbox" \
    'grep -q "\"$(conf_value data_dir)\"" <<<"$volumes" && grep -q "\"$(conf_value inbox)\"" <<<"$volumes"'
check "it runs scanvault run with the installed configuration" \
    'instruction ENTRYPOINT | grep -q "/bin/scanvault\"" && instruction CMD | grep -q "\"run\", \"--config\", \"/etc/scanvault/scanvault.conf\""'
check "the key comes from a secret: CREDENTIALS_DIRECTORY=/run/secrets" \
    'instruction ENV | grep -q "CREDENTIALS_DIRECTORY=/run/secrets"'

report deploy_container
