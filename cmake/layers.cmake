# cairn_layer(NAME DEPS ... [TEST_PROPERTIES ...]): builds src/NAME/**.cc (minus *_test.cc) into
# the static library cairn_NAME, and src/NAME/**_test.cc into the test binary NAME_tests
# registered with CTest (TEST_PROPERTIES are added to each of its tests, e.g. a fixture).
#
# Layering is enforced by the compiler, not by convention: a layer does not see src/. It sees an
# include view, build/layer-include/NAME/, holding one link per layer it may use (itself and,
# transitively, the layers of its DEPS), so `#include "client/x.h"` from the datastore layer
# fails to compile. A layer's view is a superset of its dependencies' views, so the views it
# inherits through linking add nothing it may not see.
#
# A layer may live in a subfolder of another (DIR server/auth): it is then its own library and
# test binary, the outer layer names it in EXCLUDE so its sources are not compiled twice, and
# includes keep their full path ("server/auth/acl.h").
include(GoogleTest)

function(cairn_layer name)
  cmake_parse_arguments(ARG "" "DIR" "DEPS;TEST_PROPERTIES;EXCLUDE" ${ARGN})
  if(NOT ARG_DIR)
    set(ARG_DIR ${name})
  endif()
  set(src ${PROJECT_SOURCE_DIR}/src/${ARG_DIR})
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${src}/*.cc)
  file(GLOB_RECURSE tests CONFIGURE_DEPENDS ${src}/*_test.cc)
  list(REMOVE_ITEM sources ${src}/main.cc)
  foreach(sub IN LISTS ARG_EXCLUDE)
    list(FILTER sources EXCLUDE REGEX "^${src}/${sub}/")
    list(FILTER tests EXCLUDE REGEX "^${src}/${sub}/")
  endforeach()
  list(REMOVE_ITEM sources ${tests})

  # The layers this one may include: itself and what its layer dependencies may include.
  set(visible ${ARG_DIR})
  foreach(dep IN LISTS ARG_DEPS)
    if(dep MATCHES "^cairn_(.+)$")
      get_property(dep_visible GLOBAL PROPERTY CAIRN_VISIBLE_${CMAKE_MATCH_1})
      list(APPEND visible ${dep_visible})
    endif()
  endforeach()
  list(REMOVE_DUPLICATES visible)
  set_property(GLOBAL PROPERTY CAIRN_VISIBLE_${name} ${visible})
  set(view ${CMAKE_BINARY_DIR}/layer-include/${name})
  file(REMOVE_RECURSE ${view})
  file(MAKE_DIRECTORY ${view})
  # An outer layer's link covers its inner layers' folders.
  foreach(dir IN LISTS visible)
    foreach(other IN LISTS visible)
      if(dir MATCHES "^${other}/")
        list(REMOVE_ITEM visible ${dir})
      endif()
    endforeach()
  endforeach()
  foreach(dir IN LISTS visible)
    get_filename_component(parent ${view}/${dir} DIRECTORY)
    file(MAKE_DIRECTORY ${parent})
    file(CREATE_LINK ${PROJECT_SOURCE_DIR}/src/${dir} ${view}/${dir} SYMBOLIC)
  endforeach()

  add_library(cairn_${name} STATIC ${sources})
  target_include_directories(cairn_${name} PUBLIC ${view})
  # With clang, the build itself runs the thread-safety analysis over the library
  # (base/thread_annotations.h); scripts/check-thread-safety does it for a gcc build.
  target_compile_options(cairn_${name} PRIVATE $<$<CXX_COMPILER_ID:Clang>:-Wthread-safety>)
  target_link_libraries(cairn_${name} PUBLIC ${ARG_DEPS})
  if(tests)
    add_executable(${name}_tests ${tests})
    target_link_libraries(${name}_tests PRIVATE cairn_${name} cairn_testing GTest::gtest_main GTest::gmock)
    # Test files themselves (gtest macros, fixtures) at a lower level than the code under test,
    # which keeps the build's: -O0 in the sanitizer build (40% less compile time than its -O1),
    # -O1 in the others (a fifth less than -O2; 24 s -> 19 s for verify_test.cc).
    if(CAIRN_SANITIZE)
      target_compile_options(${name}_tests PRIVATE -O0)
    else()
      target_compile_options(${name}_tests PRIVATE -O1)
    endif()
    target_compile_definitions(${name}_tests PRIVATE
      CAIRN_SOURCE_DIR="${PROJECT_SOURCE_DIR}" CAIRN_BINARY_DIR="${CMAKE_BINARY_DIR}")
    gtest_discover_tests(${name}_tests DISCOVERY_TIMEOUT 60
                         PROPERTIES TIMEOUT 900 ${ARG_TEST_PROPERTIES})
  endif()
endfunction()
