#!/usr/bin/env bash
# Creates, once, a Debian testing ("forky") chroot with CPython 3.14 and 3.15
# (their -dev, -venv and libpython3.X-testsuite: CPython's own test suite, for
# the conformance runner) and GCC 16, and caches it; prints its directory.
# Idempotent: a finished chroot (marker file below, same package list) is
# reused as it is; an unfinished one (interrupted debootstrap) is made anew.
# Needs root and debootstrap (installed with apt-get when missing).
#
#   tools/debian-testing-chroot.sh            # create if absent, print DIR
#   GOFUTURES_CHROOT=/some/dir tools/...      # another location
#
# The Debian archive is the one this machine's apt already uses, read at run
# time from /etc/apt/sources.list.d/debian.sources (or /etc/apt/sources.list);
# no archive host is written in the repository. tools/run-in-chroot.sh runs a
# command inside it with the bind mounts.
set -euo pipefail

PACKAGES="python3.14,python3.14-dev,python3.14-venv,libpython3.14-testsuite,python3.15,python3.15-dev,python3.15-venv,libpython3.15-testsuite,gcc,libc6-dev,git,make,ca-certificates,procps"
SUITE=forky

default_dir() {
    if [ "$(id -u)" = 0 ]; then echo /var/cache/gofutures-chroot/$SUITE
    else echo "${XDG_CACHE_HOME:-$HOME/.cache}/gofutures-chroot/$SUITE"; fi
}
DIR="${GOFUTURES_CHROOT:-$(default_dir)}"
MARKER="$DIR/.gofutures-chroot"

# The main archive's first URI (not the security one) of this machine's apt.
mirror() {
    local f=/etc/apt/sources.list.d/debian.sources uri
    if [ -r "$f" ]; then
        # deb822 stanzas: the URIs of the first stanza whose Suites has no "-security".
        uri="$(awk '
            /^[[:space:]]*$/ { if (u != "" && s !~ /-security/) { print u; exit } u = ""; s = ""; next }
            /^URIs:/   { u = $2 }
            /^Suites:/ { s = $0 }
            END { if (u != "" && s !~ /-security/) print u }' "$f" | head -n 1)"
    fi
    if [ -z "${uri:-}" ] && [ -r /etc/apt/sources.list ]; then
        uri="$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' /etc/apt/sources.list)"
    fi
    [ -n "${uri:-}" ] || { echo "no Debian archive URI found in this machine's apt sources" >&2; return 1; }
    echo "$uri"
}

# Anything still mounted below DIR (an interrupted run-in-chroot.sh)? Then never rm -rf it.
mounted_below() { awk -v d="$1" '$5 == d || index($5, d "/") == 1 { found = 1 } END { exit !found }' /proc/self/mountinfo; }

if [ -f "$MARKER" ] && [ "$(cat "$MARKER")" = "$PACKAGES" ]; then
    echo "$DIR"; exit 0
fi

[ "$(id -u)" = 0 ] || { echo "creating the chroot needs root (debootstrap)" >&2; exit 1; }
if ! command -v debootstrap >/dev/null; then
    apt-get update -q >&2 && apt-get install -y -q debootstrap >&2
fi
script=/usr/share/debootstrap/scripts/sid     # the sid script serves testing too
[ -r "$script" ] || { echo "debootstrap has no $script" >&2; exit 1; }

if [ -e "$DIR" ]; then
    if mounted_below "$DIR"; then echo "$DIR has mounts below it; not removing it" >&2; exit 1; fi
    echo "removing the unfinished chroot $DIR" >&2
    rm -rf --one-file-system "$DIR"
fi
mkdir -p "$(dirname "$DIR")"
tmp="$DIR.tmp.$$"
trap 'if ! mounted_below "$tmp"; then rm -rf --one-file-system "$tmp"; fi' EXIT
start=$(date +%s)
echo "debootstrap $SUITE into $DIR (a few minutes)" >&2
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$tmp" "$(mirror)" "$script" >&2
echo "$PACKAGES" > "$tmp/.gofutures-chroot"
mv "$tmp" "$DIR"
trap - EXIT
echo "chroot made in $(( $(date +%s) - start )) s" >&2
echo "$DIR"
