// Clang's thread-safety annotations (https://clang.llvm.org/docs/ThreadSafetyAnalysis.html):
// with -Wthread-safety (CMakeLists.txt turns it on for clang) the compiler checks that data
// marked GUARDED_BY(mu) is only touched with `mu` held. Under other compilers they expand to
// nothing. Use them with base/mutex.h: std::mutex itself carries no annotations.
#pragma once

#if defined(__clang__)
#define OVL_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define OVL_THREAD_ANNOTATION(x)
#endif

// A type that is a lock ("mutex").
#define CAPABILITY(x) OVL_THREAD_ANNOTATION(capability(x))
// An RAII type that holds a lock for its lifetime.
#define SCOPED_CAPABILITY OVL_THREAD_ANNOTATION(scoped_lockable)
// The member may only be read or written with the lock held.
#define GUARDED_BY(x) OVL_THREAD_ANNOTATION(guarded_by(x))
// The function must be called with the lock(s) held (exclusively / at least shared).
#define REQUIRES(...) OVL_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) OVL_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))
// The function must be called without the lock held (it takes it itself).
#define EXCLUDES(...) OVL_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
// The function takes / releases the lock(s).
#define ACQUIRE(...) OVL_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define ACQUIRE_SHARED(...) OVL_THREAD_ANNOTATION(acquire_shared_capability(__VA_ARGS__))
#define RELEASE(...) OVL_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define RELEASE_SHARED(...) OVL_THREAD_ANNOTATION(release_shared_capability(__VA_ARGS__))
// The function returns a reference to the given lock.
#define RETURN_CAPABILITY(x) OVL_THREAD_ANNOTATION(lock_returned(x))
// Opts a function out of the analysis: for locking it cannot follow (a run-time set of locks).
#define NO_THREAD_SAFETY_ANALYSIS OVL_THREAD_ANNOTATION(no_thread_safety_analysis)
