# Sourced by .ci/run (and by hand: `. tests/sanitizers/env.sh`) before running an ASan+UBSan
# build's tests. UBSan stops at the first report (the build also has -fno-sanitize-recover);
# LeakSanitizer reads tests/sanitizers/lsan.supp, which holds third-party frames only.
_fw_san_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:check_initialization_order=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$_fw_san_dir/lsan.supp:print_suppressions=0
unset _fw_san_dir
