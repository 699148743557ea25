#!/bin/sh
# cibuildwheel's before-all (pyproject.toml [tool.cibuildwheel.linux]): puts
# a Go toolchain in the manylinux container, whose gcc then builds both the
# cgo archive and the C shim against the image's old glibc. Hosted CI only:
# it downloads Go's release archive. GO_SHA256, if set, is checked.
set -eu
GO_VERSION="${GO_VERSION:-1.24.6}"
case "$(uname -m)" in
  x86_64) arch=amd64 ;;
  aarch64) arch=arm64 ;;
  *) echo "cibw-before-all: no Go build for $(uname -m)" >&2; exit 1 ;;
esac
tgz="/tmp/go$GO_VERSION.linux-$arch.tar.gz"
curl -fsSL -o "$tgz" "https://go.dev/dl/go$GO_VERSION.linux-$arch.tar.gz"
[ -z "${GO_SHA256:-}" ] || echo "$GO_SHA256  $tgz" | sha256sum -c -
rm -rf /usr/local/go && tar -C /usr/local -xzf "$tgz"
/usr/local/go/bin/go version
