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

/// The calling thread's errno, read right after a failed call.
int csystem_errno(void);

#endif
