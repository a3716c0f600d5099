#ifndef VIGIA_CCOSTPROBE_H
#define VIGIA_CCOSTPROBE_H
// Deterministic cost probes for the cost benchmark (`cost-bench`), linked into that
// executable only: a counting allocator and a marked region for callgrind.
#include <stdint.h>

/// Heap operations of one thread since it started. Per thread, so other threads' work
/// never shows in a measurement.
typedef struct {
    /// malloc, calloc, realloc (to a non-zero size), posix_memalign, aligned_alloc,
    /// memalign and valloc calls that returned memory.
    uint64_t allocations;
    /// Bytes those calls asked for.
    uint64_t bytes;
    /// free and realloc(_, 0) calls with a non-null pointer.
    uint64_t frees;
} cost_probe_allocations;

/// The calling thread's tally.
cost_probe_allocations cost_probe_thread_allocations(void);

/// Runs `body(context)`. Never inlined: `valgrind --tool=callgrind --collect-atstart=no
/// --toggle-collect=cost_probe_region --dump-after=cost_probe_region` counts the
/// instructions inside it, one dump file per call.
void cost_probe_region(void (*body)(void *), void *context);

#endif
