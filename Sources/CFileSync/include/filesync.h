#ifndef MEDIAJOBS_FILESYNC_H
#define MEDIAJOBS_FILESYNC_H

/// Starts writing back the dirty pages of [offset, offset + count) of `fd` to disk and returns
/// without waiting (Linux sync_file_range with SYNC_FILE_RANGE_WRITE; a no-op returning 0
/// elsewhere). Swift cannot see sync_file_range: glibc declares it only under _GNU_SOURCE.
int mediajobs_start_writeback(int fd, long long offset, long long count);

#endif
