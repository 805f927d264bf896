#!/usr/bin/env bash
# `cmake --install` into a fresh prefix, then a tiny program built out of tree against it:
# once with pkg-config (shared), once with CMake's find_package(Flywheel) (shared and static),
# each run; the installed program, man page, scenarios and example plug-ins are there and work.
# Usage: install.sh FLYWHEEL PYTHON SOURCE_DIR BUILD_DIR
. "$(dirname "$0")/../e2e/lib.sh"
BUILD=${4:?usage: $0 FLYWHEEL PYTHON SOURCE_DIR BUILD_DIR}
P="$TMP/prefix"
cmake --install "$BUILD" --prefix "$P" >install.log 2>&1 || { cat install.log; fail "cmake --install"; finish; }
cd "$TMP"
for f in bin/flywheel lib/libflywheel.so lib/libflywheel.a lib/pkgconfig/flywheel.pc include/flywheel/engine.h \
         include/flywheel/policy.h include/flywheel/flywheel.h lib/cmake/Flywheel/FlywheelConfig.cmake \
         share/man/man1/flywheel.1 share/flywheel/scenarios/default.yaml lib/flywheel/policies/epsilon_greedy.so \
         share/flywheel/examples/policies/linucb.c; do
  [ -e "$P/$f" ] || fail "not installed: $f"
done
pass "installed: program, libraries, headers, pkg-config file, CMake package, man page, scenarios, plug-ins"
[ ! -e "$P/include/flywheel/engine_int.h" ] && [ ! -e "$P/include/flywheel/rank.h" ] && pass "no private header installed" ||
  fail "a private header was installed"
# nm's output captured first: under pipefail `nm | grep -q` can fail by SIGPIPE and hide a match.
exported=$(nm -D --defined-only "$P/lib/libflywheel.so" | awk '$2 == "T" {print $3}')
if grep -qvE '^(fw_.*)?$' <<<"$exported"; then
  fail "libflywheel.so exports more than fw_ functions"
elif grep -qw fw_topk_offer <<<"$exported"; then fail "an internal function is exported"
else pass "libflywheel.so exports only the public headers' functions"; fi
"$P/bin/flywheel" --version >/dev/null && pass "the installed program runs" || fail "installed flywheel --version"
if man -l "$P/share/man/man1/flywheel.1" 2>/dev/null | grep -q "FLYWHEEL RUN" || grep -q '^.SH "FLYWHEEL RUN"' "$P/share/man/man1/flywheel.1"; then
  pass "man page has every command's help"; else fail "man page"; fi

SC="$P/share/flywheel/scenarios/default.yaml"
PL="$P/lib/flywheel/policies/epsilon_greedy.so"
export PKG_CONFIG_PATH="$P/lib/pkgconfig"
# shellcheck disable=SC2046
# CFLAGS and LDFLAGS (set by sanitizer builds) reach both builds: cc here, CMake by itself.
if cc ${CFLAGS:-} -o embed_pc "$SRC/tests/install/embed.c" $(pkg-config --cflags flywheel) ${LDFLAGS:-} $(pkg-config --libs flywheel) \
     -Wl,-rpath,"$P/lib" 2>cc.log; then
  if ./embed_pc "$SC" "$TMP/pc.h5" "$PL" >run.log 2>&1; then pass "pkg-config build runs: $(tr '\n' ' ' <run.log | head -c 200)"
  else fail "pkg-config build: $(cat run.log)"; fi
else fail "pkg-config build: $(cat cc.log)"; fi
if cmake -S "$SRC/tests/install" -B cm -DCMAKE_PREFIX_PATH="$P" -DCMAKE_BUILD_RPATH="$P/lib" >cm.log 2>&1 &&
   cmake --build cm >>cm.log 2>&1; then
  for x in embed embed_static; do
    if "cm/$x" "$SC" "$TMP/$x.h5" "$PL" >run.log 2>&1; then pass "CMake find_package build ($x) runs"
    else fail "CMake build $x: $(cat run.log)"; fi
  done
else fail "CMake build: $(tail -20 cm.log)"; fi
[ -s "$TMP/pc.h5" ] && "$PY" -c "import h5py,sys; f=h5py.File(sys.argv[1]); assert len(f['days/day'])==1" "$TMP/pc.h5" &&
  pass "the embedded run wrote its result" || fail "the embedded run's result"
finish
