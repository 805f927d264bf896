#!/usr/bin/env bash
# Installs the Debian 12 packages Flywheel needs to build, run and test, if any is missing.
# Used by both README commands and by .ci/run. Needs root (or sudo) only when installing.
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config git
  libgsl-dev            # random numbers, distributions, statistics
  libhdf5-dev hdf5-tools  # result files; h5diff for determinism tests
  zlib1g-dev            # the state snapshot's checksums (crc32)
  libcyaml-dev libyaml-dev  # scenario files
  libcmocka-dev         # unit tests
  gnuplot-nox           # plotted reports
  python3 python3-h5py python3-numpy  # tests read results back the way users do
  python3-pandas        # tables as pandas frames: e2e_datasets, the Python package (python/flywheel)
  python3-xarray        # Result.to_xarray in the Python package (e2e_python)
  chromium              # e2e: headless browser loads the HTML report
  clang libclang-rt-14-dev llvm  # fuzzing: libFuzzer and the sanitizer runtimes, llvm-symbolizer
  binutils              # fault injection: addr2line names the call sites (tests/fault)
  libopenmpi-dev libhdf5-openmpi-dev openmpi-bin  # the FW_MPI build: users over ranks (mpirun)
)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
