#define _GNU_SOURCE
#include <errno.h>
#include <sys/socket.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "CSystem.h"

int csystem_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags) {
    return accept4(fd, addr, len, flags);
}

int csystem_errno(void) { return errno; }

int csystem_drop_connection_requests(int fd) {
    // A TCP socket filter sees the segment from its TCP header on: byte 13 holds the flags.
    static struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 13),
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x10, 2, 0),  // ACK set: part of a connection, keep
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x02, 0, 1),  // SYN without ACK: a new attempt, drop
        BPF_STMT(BPF_RET | BPF_K, 0),
        BPF_STMT(BPF_RET | BPF_K, 0xFFFFFFFF),
    };
    struct sock_fprog program = { .len = sizeof(code) / sizeof(code[0]), .filter = code };
    return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof(program));
}

uint32_t csystem_event_ticket(uint32_t *count) {
    return __atomic_load_n(count, __ATOMIC_SEQ_CST);
}

void csystem_event_wait(uint32_t *count, uint32_t ticket, int64_t timeout_ns) {
    struct timespec relative, *timeout = NULL;
    if (timeout_ns >= 0) {
        relative.tv_sec = (time_t)(timeout_ns / 1000000000);
        relative.tv_nsec = (long)(timeout_ns % 1000000000);
        timeout = &relative;
    }
    // EAGAIN (the count moved), EINTR and ETIMEDOUT all mean: look again.
    syscall(SYS_futex, count, FUTEX_WAIT_PRIVATE, ticket, timeout, NULL, 0);
}

void csystem_event_signal(uint32_t *count, int sleepers) {
    __atomic_fetch_add(count, 1, __ATOMIC_SEQ_CST);
    syscall(SYS_futex, count, FUTEX_WAKE_PRIVATE, sleepers, NULL, NULL, 0);
}

_Thread_local void *csystem_thread_slots[CSYSTEM_THREAD_SLOTS];

void csystem_thread_slots_clear(void *value) {
    for (int i = 0; i < CSYSTEM_THREAD_SLOTS; i++) {
        if (csystem_thread_slots[i] == value) csystem_thread_slots[i] = 0;
    }
}
