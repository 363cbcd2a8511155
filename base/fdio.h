/*
 * Whole writes to a file descriptor (a pipe between processes): retried
 * on EINTR and after a short write.
 */
#ifndef LOADS_BASE_FDIO_H
#define LOADS_BASE_FDIO_H

#include <stddef.h>

/* Writes all of len bytes of data to fd.  Returns 0, or -1 (errno set, or 0 at EOF). */
int fd_write_all(int fd, const void *data, size_t len);

#endif
