#!/bin/sh
# Upgrade K3s in place on this node: the release's binary, checked against the release's
# checksums, replaces the installed one, and the service restarts with its flags unchanged.
# Input: K3S_VERSION (a release such as v1.31.4+k3s1; channels are resolved by goman first).
set -eu
: "${K3S_VERSION:?}"
case "$(uname -m)" in
  x86_64) ARCH=amd64 BIN=k3s ;;
  aarch64) ARCH=arm64 BIN=k3s-arm64 ;;
  *) echo "unsupported architecture $(uname -m)" >&2; exit 2 ;;
esac
# GitHub release tags carry the "+" URL-encoded.
TAG="$(printf '%s' "$K3S_VERSION" | sed 's/+/%2B/')"
BASE="https://github.com/k3s-io/k3s/releases/download/$TAG"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
curl -sfL "$BASE/$BIN" -o "$TMP/$BIN"
curl -sfL "$BASE/sha256sum-$ARCH.txt" -o "$TMP/sums"
(cd "$TMP" && grep " $BIN\$" sums | sha256sum -c - >/dev/null)
install -m 0755 "$TMP/$BIN" /usr/local/bin/k3s
if systemctl list-unit-files k3s.service >/dev/null 2>&1 && systemctl is-enabled k3s >/dev/null 2>&1; then
  systemctl restart k3s
else
  systemctl restart k3s-agent
fi
echo "k3s upgraded to $K3S_VERSION"
