#!/usr/bin/env bash
# Runs a command inside the Debian testing chroot (tools/debian-testing-chroot.sh,
# created first when absent), in a copy of this checkout at /src/gofutures:
#
#   tools/run-in-chroot.sh python3.14 --version
#   tools/run-in-chroot.sh tools/chroot-leg.sh 3.15 all
#
# For the command's life it mounts, in the chroot: /proc and /dev (binds), a
# tmpfs on /dev/shm (multiprocessing's semaphores), /dev/pts, the host's Go
# toolchain (/usr/local/go, read-only) and the host's Go module cache (so the
# module proxy is asked only for what the host lacks); and it copies in
# /etc/resolv.conf, /etc/pip.conf and the CA bundle, so pip and the Go module
# proxy work from inside. The mounts live in a private mount namespace
# (unshare) when it can have one, and a trap unmounts them on any exit.
# One run at a time per chroot (flock).
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
GO_ROOT="${GO_ROOT:-/usr/local/go}"
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt

[ $# -ge 1 ] || { echo "usage: $0 COMMAND [ARG...]" >&2; exit 2; }

if [ -z "${GOFUTURES_IN_MOUNT_NS:-}" ] && command -v unshare >/dev/null \
        && unshare --mount --propagation private true 2>/dev/null; then
    # The mounts below then vanish with this process even if the trap cannot run (SIGKILL).
    GOFUTURES_IN_MOUNT_NS=1 exec unshare --mount --propagation private "$0" "$@"
fi

DIR="$("$HERE/tools/debian-testing-chroot.sh")"
exec 9>"$DIR.lock"
flock 9

MOUNTED=()
cleanup() {
    local i
    for (( i=${#MOUNTED[@]}-1; i>=0; i-- )); do
        umount "${MOUNTED[$i]}" 2>/dev/null || umount -l "${MOUNTED[$i]}" || true
    done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# Mount nothing that propagates back to the host's mount points.
mnt() { # mnt TARGET mount-args...
    local target="$1"; shift
    mkdir -p "$target"
    mount "$@" "$target"
    MOUNTED+=("$target")
    mount --make-private "$target" 2>/dev/null || true
}
mnt "$DIR/proc" --bind /proc
mnt "$DIR/dev" --bind /dev
mnt "$DIR/dev/shm" -t tmpfs -o mode=1777,nosuid,nodev tmpfs
mnt "$DIR/dev/pts" --bind /dev/pts
mnt "$DIR/usr/local/go" --bind "$GO_ROOT"
mount -o remount,bind,ro "$DIR/usr/local/go" 2>/dev/null || true
modcache="$("$GO_ROOT/bin/go" env GOMODCACHE 2>/dev/null || true)"
if [ -n "$modcache" ]; then
    mkdir -p "$modcache"
    mnt "$DIR/root/go/pkg/mod" --bind "$modcache"
fi
# pip's local wheel directory, if this machine's pip is pointed at one.
if [ -n "${PIP_FIND_LINKS:-}" ] && [ -d "$PIP_FIND_LINKS" ]; then
    mnt "$DIR$PIP_FIND_LINKS" --bind "$PIP_FIND_LINKS"
    mount -o remount,bind,ro "$DIR$PIP_FIND_LINKS" 2>/dev/null || true
fi

cp -L /etc/resolv.conf "$DIR/etc/resolv.conf"
[ -r /etc/pip.conf ] && cp -L /etc/pip.conf "$DIR/etc/pip.conf"
[ -r "$CA_BUNDLE" ] && { mkdir -p "$DIR/etc/ssl/certs"; cp -L "$CA_BUNDLE" "$DIR$CA_BUNDLE"; }

# A fresh copy of the checkout (the working tree, not only what is
# committed), without the host's build products: they are for another glibc.
rm -rf --one-file-system "$DIR/src/gofutures"
mkdir -p "$DIR/src/gofutures"
tar -C "$HERE" --exclude=./.git --exclude=./build --exclude=./dist --exclude=./.tox \
    --exclude='*.egg-info' --exclude='*.so' --exclude='*.a' --exclude=__pycache__ \
    --exclude=.hypothesis --exclude=.pytest_cache -cf - . | tar -C "$DIR/src/gofutures" -xf -

# A clean environment, plus what pip, Go and the network need from the host's.
envs=(HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}"
      PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
while IFS= read -r -d '' kv; do
    case "$kv" in
        PIP_*=*|GOPROXY=*|GOSUMDB=*|GONOSUMDB=*|GOPRIVATE=*|GONOPROXY=*|GOFLAGS=*|GOINSECURE=*|\
        CGO_CFLAGS=*|http_proxy=*|https_proxy=*|no_proxy=*|HTTP_PROXY=*|HTTPS_PROXY=*|NO_PROXY=*|\
        SSL_CERT_FILE=*|REQUESTS_CA_BUNDLE=*|CURL_CA_BUNDLE=*|GIT_SSL_CAINFO=*)
            envs+=("$kv") ;;
    esac
done < <(env -0)

status=0
# Under tools/subreaper.py: orphaned processes (forkserver workers) are
# reaped at once even where this machine's PID 1 does not reap.
chroot "$DIR" /usr/bin/env -i "${envs[@]}" /bin/sh -c \
    'cd /src/gofutures && exec python3.15 tools/subreaper.py "$@"' sh "$@" || status=$?
exit $status
