// The process's malloc family, counted per thread and forwarded to glibc's allocator.
// Defined in the executable, these take precedence over libc's for every library the
// process loads (libswiftCore's allocations included). No locks, no allocation here:
// the counters are initial-exec thread-locals.
#include "CCostProbe.h"

#include <errno.h>
#include <stddef.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void *__libc_valloc(size_t size);
extern void __libc_free(void *pointer);

static __thread cost_probe_allocations tally __attribute__((tls_model("initial-exec")));

static inline void *counted(void *pointer, size_t size) {
    if (pointer != NULL) {
        tally.allocations += 1;
        tally.bytes += size;
    }
    return pointer;
}

void *malloc(size_t size) { return counted(__libc_malloc(size), size); }

void *calloc(size_t count, size_t size) { return counted(__libc_calloc(count, size), count * size); }

void *realloc(void *pointer, size_t size) {
    if (pointer != NULL && size == 0) tally.frees += 1;
    return counted(__libc_realloc(pointer, size), size);
}

void free(void *pointer) {
    if (pointer != NULL) tally.frees += 1;
    __libc_free(pointer);
}

void *memalign(size_t alignment, size_t size) { return counted(__libc_memalign(alignment, size), size); }

void *aligned_alloc(size_t alignment, size_t size) { return counted(__libc_memalign(alignment, size), size); }

void *valloc(size_t size) { return counted(__libc_valloc(size), size); }

int posix_memalign(void **result, size_t alignment, size_t size) {
    // POSIX: a power of two and a multiple of sizeof(void *), else EINVAL.
    if (alignment % sizeof(void *) != 0 || (alignment & (alignment - 1)) != 0) return EINVAL;
    void *pointer = counted(__libc_memalign(alignment, size), size);
    if (pointer == NULL) return ENOMEM;
    *result = pointer;
    return 0;
}

cost_probe_allocations cost_probe_thread_allocations(void) { return tally; }

__attribute__((noinline)) void cost_probe_region(void (*body)(void *), void *context) {
    body(context);
    // Keeps the call a call (not a tail jump), so callgrind sees the region close here.
    __asm__ volatile("" ::: "memory");
}
