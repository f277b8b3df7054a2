#!/usr/bin/env bash
# Builds the four plugins in release mode and packs them for krew (see packaging/README.md):
#   dist/kubectl-<name>_v<version>_<os>_<arch>.tar.gz (.zip on Windows): the binary, LICENSE
#       its man pages (man/kubectl-<name>*.1) and, except on Windows, completions/kubectl_complete-<name>
#   dist/checksums.txt   sha256sum of every archive in dist/
#   dist/<name>.yaml     krew manifest rendered from krew/<name>.yaml for the platform(s)
#                        whose archive is in dist/, uri = file:// to the archive
# Usage: packaging/package.sh [--target TRIPLE] [--profile NAME] [--archives-only]
#        packaging/package.sh --release-manifests
#   --target TRIPLE       build for this Rust target instead of the host (release workflow)
#   --profile NAME        the cargo profile to pack (default release). CI packs the dev-profile
#                         binaries its tests already built: it checks the archives, manifests and
#                         krew install, and the release profile's LTO build would cost it minutes
#   --archives-only       stop after the archives and dist/checksums.txt
#   --release-manifests   build nothing; write dist/krew/<name>.yaml with all five platforms,
#                         the GitHub release URIs, each sha256 from the archive in dist/, else
#                         from packaging/checksums.txt, else fail
# Environment: CARGO (default cargo; the release workflow uses cross for Linux musl),
#              PYTHON (default python3, else python), SOURCE_DATE_EPOCH (archive times).
set -euo pipefail
cd "$(dirname "$0")/.."

die() { printf 'package.sh: %s\n' "$*" >&2; exit 1; }

PLUGINS=(airflow pvcreset nodeevict argodeploy)
target=""
profile="release"
archives_only=false
release_manifests=false
while [ $# -gt 0 ]; do
  case "$1" in
    --target) [ $# -ge 2 ] || die "--target needs a value"; target="$2"; shift 2 ;;
    --profile) [ $# -ge 2 ] || die "--profile needs a value"; profile="$2"; shift 2 ;;
    --archives-only) archives_only=true; shift ;;
    --release-manifests) release_manifests=true; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done

PYTHON="${PYTHON:-}"
if [ -z "$PYTHON" ]; then
  if command -v python3 >/dev/null 2>&1; then PYTHON=python3
  elif command -v python >/dev/null 2>&1; then PYTHON=python
  else die "python3 is needed (standard library only)"; fi
fi
tool() { "$PYTHON" packaging/render-krew.py "$@"; }

version="$(tool version)"
tag="v$version"
mkdir -p dist
printf '*\n' > dist/.gitignore   # build output: never committed

if $release_manifests; then
  mkdir -p dist/krew
  for name in "${PLUGINS[@]}"; do
    tool render --mode release --name "$name" --out "dist/krew/$name.yaml"
    echo "wrote dist/krew/$name.yaml"
  done
  exit 0
fi

CARGO="${CARGO:-cargo}"
if [ -n "$target" ]; then
  triple="$target"
else
  triple="$(rustc -vV | sed -n 's/^host: //p')"
  [ -n "$triple" ] || die "cannot tell the host target from 'rustc -vV'"
fi
platform="$(tool platform "$triple")"
os="${platform% *}"
arch="${platform#* }"

pkgs=()
for name in "${PLUGINS[@]}"; do pkgs+=(-p "kubectl-$name"); done
target_dir="$(tool target-dir)"
# cargo puts the dev profile's output in debug/, every other profile's in a folder of its name.
profile_dir="$profile"
[ "$profile" != dev ] || profile_dir=debug
if [ -n "$target" ]; then
  "$CARGO" build --profile "$profile" --locked --bins --target "$target" "${pkgs[@]}"
  bindir="$target_dir/$target/$profile_dir"
else
  "$CARGO" build --profile "$profile" --locked --bins "${pkgs[@]}"
  bindir="$target_dir/$profile_dir"
fi

exe=""
ext="tar.gz"
if [ "$os" = windows ]; then exe=".exe"; ext="zip"; fi
mtime="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}"
for name in "${PLUGINS[@]}"; do
  bin="$bindir/kubectl-$name$exe"
  [ -f "$bin" ] || die "$bin was not built"
  members=(--member "kubectl-$name$exe=$bin:755" --member "LICENSE=LICENSE:644")
  completion="completions/kubectl_complete-$name"
  if [ "$os" != windows ] && [ -f "$completion" ]; then
    members+=(--member "kubectl_complete-$name=$completion:755")
  fi
  # The man pages (generated from the clap definitions, committed in man/ and kept current
  # by the e2e tests): for manual installs; krew installs only `files`.
  for page in man/kubectl-"$name".1 man/kubectl-"$name"-*.1; do
    [ -f "$page" ] || die "$page is missing: regenerate with cargo run -p kubectl-$name -- __man man"
    members+=(--member "${page#man/}=$page:644")
  done
  out="dist/kubectl-${name}_${tag}_${os}_${arch}.$ext"
  tool archive --out "$out" --mtime "$mtime" "${members[@]}"
  echo "wrote $out"
done
tool checksums dist
echo "wrote dist/checksums.txt"

if ! $archives_only; then
  for name in "${PLUGINS[@]}"; do
    tool render --mode local --name "$name" --out "dist/$name.yaml"
    echo "wrote dist/$name.yaml"
  done
fi
