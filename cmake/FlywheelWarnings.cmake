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
if(_fw_san)
  list(JOIN _fw_san "," _fw_san_list)
  target_compile_options(fw_warnings INTERFACE -fsanitize=${_fw_san_list} -fno-omit-frame-pointer
                         -fno-sanitize-recover=all)
  target_link_options(fw_warnings INTERFACE -fsanitize=${_fw_san_list})
endif()
