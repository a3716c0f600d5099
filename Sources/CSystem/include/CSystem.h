#ifndef VIGIA_CSYSTEM_H
#define VIGIA_CSYSTEM_H
// Swift 6.3's Glibc module hides these behind _GNU_SOURCE; this header is the only place
// that asks for them. Everything else goes through the Swift syscall layer.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <unistd.h>

/// accept4(2) needs _GNU_SOURCE; wrapped so Swift sees a plain function.
int csystem_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);

/// The calling thread's errno, read right after a failed call.
int csystem_errno(void);

#endif
