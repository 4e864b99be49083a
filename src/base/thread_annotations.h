// Clang's thread-safety annotations (-Wthread-safety), as macros that vanish for other
// compilers: a member that a mutex guards says so (CAIRN_GUARDED_BY(mu_)), a method that must
// be called with a lock held says so (CAIRN_REQUIRES(mu_)), and clang checks every access.
// scripts/check-thread-safety runs that check over the tree in CI.
#pragma once

#if defined(__clang__)
#define CAIRN_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define CAIRN_THREAD_ANNOTATION(x)
#endif

#define CAIRN_CAPABILITY(name) CAIRN_THREAD_ANNOTATION(capability(name))
#define CAIRN_SCOPED_CAPABILITY CAIRN_THREAD_ANNOTATION(scoped_lockable)
#define CAIRN_GUARDED_BY(mu) CAIRN_THREAD_ANNOTATION(guarded_by(mu))
#define CAIRN_PT_GUARDED_BY(mu) CAIRN_THREAD_ANNOTATION(pt_guarded_by(mu))
#define CAIRN_REQUIRES(...) CAIRN_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define CAIRN_EXCLUDES(...) CAIRN_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define CAIRN_ACQUIRE(...) CAIRN_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define CAIRN_RELEASE(...) CAIRN_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define CAIRN_ASSERT_HELD(...) CAIRN_THREAD_ANNOTATION(assert_capability(__VA_ARGS__))
#define CAIRN_NO_THREAD_SAFETY_ANALYSIS CAIRN_THREAD_ANNOTATION(no_thread_safety_analysis)
