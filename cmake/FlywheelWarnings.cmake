# Warning and sanitizer flags shared by every target (STYLE.md "Build").
add_library(fw_warnings INTERFACE)
target_compile_options(fw_warnings INTERFACE
  -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
  -Wpointer-arith -Wformat=2 -Wvla
  # `#pragma omp simd` in hot kernels vectorises with or without OpenMP threads.
  -fopenmp-simd)
if(FW_WERROR)
  target_compile_options(fw_warnings INTERFACE -Werror)
endif()
set(_fw_san "")
if(FW_ASAN)
  list(APPEND _fw_san address)
endif()
if(FW_UBSAN)
  list(APPEND _fw_san undefined)
endif()
# The fuzz build: coverage for libFuzzer in every object, and both sanitizers, so that what
# the fuzzers reach is checked; the fuzz targets themselves link -fsanitize=fuzzer.
if(FW_FUZZ)
  list(APPEND _fw_san address undefined)
  list(REMOVE_DUPLICATES _fw_san)
  target_compile_options(fw_warnings INTERFACE -fsanitize=fuzzer-no-link)
endif()
if(_fw_san)
  list(JOIN _fw_san "," _fw_san_list)
  target_compile_options(fw_warnings INTERFACE -fsanitize=${_fw_san_list} -fno-omit-frame-pointer
                         -fno-sanitize-recover=all)
  target_link_options(fw_warnings INTERFACE -fsanitize=${_fw_san_list})
endif()
