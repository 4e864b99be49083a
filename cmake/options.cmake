# Build options: warnings as errors everywhere, optional sanitizers.
option(CAIRN_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
option(CAIRN_TSAN "Build with ThreadSanitizer" OFF)
option(CAIRN_BUILD_BENCH "Build the Google Benchmark micro suite" ON)
option(CAIRN_BUILD_CLI "Build the cairn command and its end-to-end tests" ON)
option(CAIRN_FUZZ "Also build the libFuzzer targets of fuzz/ (clang only; implies CAIRN_SANITIZE)" OFF)

# Designated initializers that leave members at their defaults are the point of them.
add_compile_options(-Wall -Wextra -Werror -Wno-missing-field-initializers)
# Line tables only: all perf and sanitizer reports need, and a fifth less compile time than -g.
add_compile_options($<$<CONFIG:RelWithDebInfo>:-g1>)
if(CAIRN_FUZZ)
  set(CAIRN_SANITIZE ON)
endif()
if(CAIRN_SANITIZE)
  # -O1 -g1 (after the build type's -O2 -g, so they win): under ASan a test file compiles in less
  # than half the time of -O2 -g (62 s -> 28 s for datastore_test.cc), which keeps CI short;
  # line tables are all sanitizer reports need.
  add_compile_options(-O1 -g1)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
endif()
if(CAIRN_TSAN)
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
endif()
if(CAIRN_FUZZ)
  # libFuzzer ships with clang. On top of the sanitizer flags above, every file gets coverage
  # instrumentation (fuzzer-no-link; the sanitizer runtime provides its hooks, so the tests link
  # as usual) and assert() stays on (-UNDEBUG after the build type's -DNDEBUG): a broken
  # invariant is a finding too. The fuzz targets add -fsanitize=fuzzer at link time
  # (fuzz/CMakeLists.txt). The same build runs the tests under the sanitizers (scripts/build).
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "CAIRN_FUZZ needs clang (libFuzzer): configure with CXX=clang++")
  endif()
  if(CAIRN_TSAN)
    message(FATAL_ERROR "CAIRN_FUZZ builds with ASan + UBSan; leave CAIRN_TSAN off")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link -UNDEBUG)
endif()
