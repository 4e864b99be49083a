// FUZZ_CHECK(cond, what): aborts with `what` if `cond` is false, i.e. a parser broke a promise
// of its header; libFuzzer reports the abort as a crash, like any sanitizer finding. Kept apart
// from fuzz_support.h so that targets of layers without format/ (the server's auth parsers)
// can use it.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond, what)                                                                 \
  do {                                                                                         \
    if (!(cond)) {                                                                             \
      std::fprintf(stderr, "FUZZ_CHECK failed at %s:%d: %s (%s)\n", __FILE__, __LINE__, #cond, \
                   what);                                                                      \
      std::abort();                                                                            \
    }                                                                                          \
  } while (0)
