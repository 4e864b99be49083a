# cairn_layer(NAME DEPS ... [TEST_PROPERTIES ...]): builds src/NAME/*.cc (minus *_test.cc) into
# the static library cairn_NAME, and src/NAME/*_test.cc into the test binary NAME_tests
# registered with CTest (TEST_PROPERTIES are added to each of its tests, e.g. a fixture).
include(GoogleTest)

function(cairn_layer name)
  cmake_parse_arguments(ARG "" "" "DEPS;TEST_PROPERTIES" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/${name}/*.cc)
  file(GLOB tests CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/${name}/*_test.cc)
  list(REMOVE_ITEM sources ${tests} ${PROJECT_SOURCE_DIR}/src/${name}/main.cc)
  if(NOT sources)
    return()  # layer not written yet
  endif()
  add_library(cairn_${name} STATIC ${sources})
  target_include_directories(cairn_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(cairn_${name} PUBLIC ${ARG_DEPS})
  if(tests)
    add_executable(${name}_tests ${tests})
    target_link_libraries(${name}_tests PRIVATE cairn_${name} cairn_testing GTest::gtest_main GTest::gmock)
    if(CAIRN_SANITIZE)
      # Test files themselves (gtest macros, fixtures) at -O0: 40% less compile time; the code
      # under test keeps the sanitizer build's -O1.
      target_compile_options(${name}_tests PRIVATE -O0)
    endif()
    target_compile_definitions(${name}_tests PRIVATE
      CAIRN_SOURCE_DIR="${PROJECT_SOURCE_DIR}" CAIRN_BINARY_DIR="${CMAKE_BINARY_DIR}")
    gtest_discover_tests(${name}_tests DISCOVERY_TIMEOUT 60
                         PROPERTIES TIMEOUT 900 ${ARG_TEST_PROPERTIES})
  endif()
endfunction()
