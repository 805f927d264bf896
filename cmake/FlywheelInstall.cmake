# libflywheel (shared and static: the engine and the simulator), its public headers, the
# pkg-config file, the CMake package, the program, its man page, the scenarios and the example
# ranker plug-ins: what `cmake --install build --prefix P` puts under P.
#
#   P/bin/flywheel                          the program (linked statically to the libraries)
#   P/lib/libflywheel.so.0.1.0, libflywheel.a
#   P/include/flywheel/*.h                  engine.h and its capability headers, policy.h, flywheel.h
#   P/lib/pkgconfig/flywheel.pc             relocatable (prefix from the file's own place)
#   P/lib/cmake/Flywheel/                   find_package(Flywheel): Flywheel::flywheel (shared),
#                                           Flywheel::flywheel_static
#   P/lib/flywheel/policies/*.so            the example ranker and bidder plug-ins
#   P/share/flywheel/scenarios/*.yaml, P/share/flywheel/examples/policies/ (sources, scenarios)
#   P/share/man/man1/flywheel.1             generated from `flywheel --help` at build time
#   P/share/flywheel/python/                the Python package (flywheel/) and its example
include(GNUInstallDirs)

# The static libraries that make up libflywheel, in link order.
set(FW_LIB_PARTS fw_sim fw_recorder fw_experiment fw_stats fw_model fw_scenario fw_h5 fw_rng fw_engine)

# Only what the public headers declare is exported from the shared library: a version script
# made from their function declarations (static inline helpers excluded), so internals stay
# private however they are named.
set(FW_PUBLIC_HEADER_DIRS ${PROJECT_SOURCE_DIR}/engine/include/flywheel ${PROJECT_SOURCE_DIR}/sim/include/flywheel)
set(_fw_syms "")
foreach(_dir ${FW_PUBLIC_HEADER_DIRS})
  file(GLOB _hdrs ${_dir}/*.h)
  foreach(_h ${_hdrs})
    file(STRINGS ${_h} _lines REGEX "^[a-z].*[ *]fw_[a-z0-9_]+\\(")
    foreach(_l ${_lines})
      if(NOT _l MATCHES "static inline" AND _l MATCHES "[ *](fw_[a-z0-9_]+)\\(")
        list(APPEND _fw_syms "${CMAKE_MATCH_1}")
      endif()
    endforeach()
  endforeach()
endforeach()
list(REMOVE_DUPLICATES _fw_syms)
list(SORT _fw_syms)
list(JOIN _fw_syms ";\n    " _fw_syms_text)
set(FW_VERSION_SCRIPT ${CMAKE_BINARY_DIR}/libflywheel.map)
file(CONFIGURE OUTPUT ${FW_VERSION_SCRIPT} CONTENT "FLYWHEEL_0 {\n  global:\n    ${_fw_syms_text};\n  local: *;\n};\n")

add_library(flywheel_shared SHARED ${PROJECT_SOURCE_DIR}/sim/program/api.c)
add_library(flywheel_static STATIC ${PROJECT_SOURCE_DIR}/sim/program/api.c)
foreach(_t flywheel_shared flywheel_static)
  target_include_directories(${_t} PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/sim/include>
                             PRIVATE ${PROJECT_SOURCE_DIR}/sim ${FW_GENERATED_DIR})
  target_link_libraries(${_t} PRIVATE fw_warnings)
  add_dependencies(${_t} fw_revision)
  set_target_properties(${_t} PROPERTIES OUTPUT_NAME flywheel ARCHIVE_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib
                        LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib)
endforeach()
# Both hold every part's objects themselves (built position-independent); linking fw_sim
# privately brings the parts' include paths and the outside libraries (GSL, HDF5, libcyaml,
# OpenMP, libdl), and no object twice: the archives' members are never needed.
foreach(_t flywheel_shared flywheel_static)
  foreach(_p ${FW_LIB_PARTS})
    target_sources(${_t} PRIVATE $<TARGET_OBJECTS:${_p}>)
  endforeach()
  target_link_libraries(${_t} PRIVATE fw_sim)
endforeach()
target_link_options(flywheel_shared PRIVATE "LINKER:--version-script=${FW_VERSION_SCRIPT}")
if(NOT _fw_san)   # a sanitizer's runtime comes with the program, not the library
  target_link_options(flywheel_shared PRIVATE "LINKER:--no-undefined")
endif()
set_target_properties(flywheel_shared PROPERTIES VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR}
                      LINK_DEPENDS ${FW_VERSION_SCRIPT})

# What a static link needs besides libflywheel.a (pkg-config --static, Flywheel::flywheel_static).
set(FW_PC_PRIVATE "-lgsl -lgslcblas -lcyaml -lyaml")
foreach(_l ${HDF5_HL_LIBRARIES} ${HDF5_C_LIBRARIES})
  if(_l MATCHES "^/")
    string(APPEND FW_PC_PRIVATE " ${_l}")
  endif()
endforeach()
if(FW_OPENMP)
  string(APPEND FW_PC_PRIVATE " ${OpenMP_C_FLAGS}")
endif()
string(APPEND FW_PC_PRIVATE " -lm ${CMAKE_DL_LIBS} -lpthread")
string(REPLACE ";" " " FW_PC_PRIVATE "${FW_PC_PRIVATE}")

# The way up from lib/pkgconfig and lib/cmake/Flywheel to the prefix (LIBDIR may be lib/<triplet>).
string(REGEX REPLACE "[^/]+" ".." _fw_up "${CMAKE_INSTALL_LIBDIR}")
set(FW_PC_UP "${_fw_up}/..")
set(FW_CMAKE_UP "${_fw_up}/../..")
configure_file(${PROJECT_SOURCE_DIR}/cmake/flywheel.pc.in ${CMAKE_BINARY_DIR}/flywheel.pc @ONLY)
configure_file(${PROJECT_SOURCE_DIR}/cmake/FlywheelConfig.cmake.in ${CMAKE_BINARY_DIR}/FlywheelConfig.cmake @ONLY)
include(CMakePackageConfigHelpers)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/FlywheelConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)

# The man page: flywheel --help and every command's --help, as roff (cmake/FlywheelMan.cmake).
add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/flywheel.1
  COMMAND ${CMAKE_COMMAND} -DFLYWHEEL=$<TARGET_FILE:flywheel> -DOUT=${CMAKE_BINARY_DIR}/flywheel.1
          -DVERSION=${PROJECT_VERSION} -P ${PROJECT_SOURCE_DIR}/cmake/FlywheelMan.cmake
  DEPENDS flywheel ${PROJECT_SOURCE_DIR}/cmake/FlywheelMan.cmake
  COMMENT "Generating the man page from flywheel --help")
add_custom_target(fw_man ALL DEPENDS ${CMAKE_BINARY_DIR}/flywheel.1)

install(TARGETS flywheel RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS flywheel_shared flywheel_static
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${FW_PUBLIC_HEADER_DIRS} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
install(FILES ${CMAKE_BINARY_DIR}/flywheel.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
install(FILES ${CMAKE_BINARY_DIR}/FlywheelConfig.cmake ${CMAKE_BINARY_DIR}/FlywheelConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Flywheel)
install(FILES ${CMAKE_BINARY_DIR}/flywheel.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/scenarios/ DESTINATION ${CMAKE_INSTALL_DATADIR}/flywheel/scenarios
        FILES_MATCHING PATTERN "*.yaml")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/examples/policies/ DESTINATION ${CMAKE_INSTALL_DATADIR}/flywheel/examples/policies
        FILES_MATCHING PATTERN "*.c" PATTERN "*.yaml" PATTERN "*.md")
install(TARGETS baseline epsilon_greedy linucb pacing_bidder python_bridge LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/flywheel/policies)
# The Python package (plain Python over libflywheel): PYTHONPATH=P/share/flywheel/python, or pip install it.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/python/ DESTINATION ${CMAKE_INSTALL_DATADIR}/flywheel/python
        FILES_MATCHING PATTERN "*.py" PATTERN "*.toml" PATTERN "__pycache__" EXCLUDE)
