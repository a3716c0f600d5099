#ifndef VIGIA_CSYSTEM_H
#define VIGIA_CSYSTEM_H
// Only the Linux headers Swift 6.3's Glibc module does not export. _GNU_SOURCE is defined
// in shim.c, not here: defining it in this header changes struct and enum layouts that
// Glibc also exports (fd_set, __rusage_who) and the two modules then conflict.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/socket.h>

/// accept4(2), which glibc declares only under _GNU_SOURCE.
int csystem_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);

/// Attaches a socket filter to a TCP listener that drops connection requests (segments with
/// SYN set and ACK clear) and lets every other segment through, so handshakes already under
/// way complete into the accept queue while new ones get no answer. 0 or -1 (errno set).
int csystem_drop_connection_requests(int fd);

/// An event count for one sleeping thread (futex(2), process-private): `csystem_event_ticket`
/// reads the count, `csystem_event_wait` sleeps while it still equals that ticket (up to
/// `timeout_ns`, or forever when negative; any signal, timeout or spurious wake returns), and
/// `csystem_event_signal` bumps it and wakes up to `sleepers` sleepers. A signal between the ticket and the
/// wait makes the wait return at once, so a wake-up cannot be lost.
#include <stdint.h>
uint32_t csystem_event_ticket(uint32_t *count);
void csystem_event_wait(uint32_t *count, uint32_t ticket, int64_t timeout_ns);
void csystem_event_signal(uint32_t *count, int sleepers);

/// The calling thread's errno, read right after a failed call.
int csystem_errno(void);

/// Asks the processor to bring the cache line at `address` in for reading, without waiting
/// for it (a hint: any address is allowed, nothing faults). Inline, so that it is one
/// instruction in Swift callers.
static inline void csystem_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }

/// Slots of the calling thread's own storage, for `PerThread`: reading one is a load from
/// the thread pointer, where `pthread_getspecific` is a call and a bounds check. A slot is
/// only a cache: the objects are owned through pthread keys, whose destructors run at thread
/// exit and clear the slot (`csystem_thread_slots_clear`).
#define CSYSTEM_THREAD_SLOTS 16
extern _Thread_local void *csystem_thread_slots[CSYSTEM_THREAD_SLOTS];
static inline void *csystem_thread_slot(int index) { return csystem_thread_slots[index]; }
static inline void csystem_set_thread_slot(int index, void *value) { csystem_thread_slots[index] = value; }
/// Clears every slot of the calling thread that holds `value`.
void csystem_thread_slots_clear(void *value);

#endif
