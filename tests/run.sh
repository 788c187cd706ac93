#!/usr/bin/env bash
# The README's test command: installs the Debian packages the tests use, then runs every test project.
# Works on a fresh Debian 12 machine (root or sudo) and from a plain clone: tests read only tests/fixtures/.
set -euo pipefail
cd "$(dirname "$0")/.."

# python3-zmq/-msgpack/-numpy: Python robot clients and numpy oracles; binutils: readelf for the native-load test;
# libchipmunk-dev, gcc, libc6-dev: the Chipmunk 7 oracle (tests/oracles/pusht_chipmunk.c), compiled by the PushT tests;
# python3-onnx: the ONNX checker on the exported network.
packages=(python3-zmq python3-msgpack python3-numpy binutils libchipmunk-dev gcc libc6-dev python3-onnx)

need=()
for pkg in "${packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -q
  $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${need[@]}"
fi

dotnet test DiffPolicy.Control.sln "$@"
