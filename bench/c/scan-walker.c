// Reference walker for the scan bench: the syscalls the agent's scan makes, nothing else.
// usage: scan-walker SPACE_DIR THREADS
// SPACE_DIR holds the <XX> bucket directories; threads take buckets from a shared counter and,
// per entry: openat(O_RDONLY|O_NOFOLLOW|O_NONBLOCK|O_CLOEXEC|O_NOATIME) + fstat + (regular files)
// fgetxattr of the Pfn and the user.U. xrdec pair, and of the user. pair when the first is absent
// (asking for 256 bytes, then 8 KiB for a longer value, as the native walker does) + pread of the
// last min(size, 16 KiB) + close.
// Prints {"files": N, "seconds": S, "cpuSeconds": C, "threads": T} on stdout (C = user + system
// time of all threads). Built by bench/scan-bench.ts.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define MAX_BUCKETS 4096
#define TAIL_BYTES (16 * 1024)
#define MAX_XATTR 8192
#define XATTR_FIRST_TRY 256

static const char* const kXattrs[] = {
    "user.XrdFrm.Pfn", "user.U.xrdec.strpver", "user.U.xrdec.filesize", "user.xrdec.strpver", "user.xrdec.filesize",
};

static char* buckets[MAX_BUCKETS];
static int nbuckets;
static atomic_int next_bucket;
static atomic_long total_files;

static void scan_bucket(const char* path, char* xbuf, char* tail) {
  DIR* d = opendir(path);
  if (d == NULL) return;
  int dfd = dirfd(d);
  long files = 0;
  struct dirent* e;
  while ((e = readdir(d)) != NULL) {
    const char* n = e->d_name;
    if (n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0'))) continue;
    files++;
    int fd = openat(dfd, n, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOATIME);
    if (fd < 0) continue;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
      // the user. pair only when the user.U. pair is absent (SkipName in native/src/scan-dir.cc)
      int absent_u = 0;
      for (size_t i = 0; i < sizeof kXattrs / sizeof kXattrs[0]; i++) {
        if (i >= 3 && absent_u < 2) continue;
        ssize_t r = fgetxattr(fd, kXattrs[i], xbuf, XATTR_FIRST_TRY);
        if (r < 0 && errno == ERANGE) r = fgetxattr(fd, kXattrs[i], xbuf, MAX_XATTR);
        if (r < 0 && errno == ENODATA && (i == 1 || i == 2)) absent_u++;
      }
      size_t len = (size_t)st.st_size < TAIL_BYTES ? (size_t)st.st_size : TAIL_BYTES;
      if (len > 0 && pread(fd, tail, len, st.st_size - (off_t)len) < 0) perror("pread");
    }
    close(fd);
  }
  closedir(d);
  atomic_fetch_add(&total_files, files);
}

static void* worker(void* arg) {
  (void)arg;
  char* xbuf = malloc(MAX_XATTR);
  char* tail = malloc(TAIL_BYTES);
  for (;;) {
    int i = atomic_fetch_add(&next_bucket, 1);
    if (i >= nbuckets) break;
    scan_bucket(buckets[i], xbuf, tail);
  }
  free(xbuf);
  free(tail);
  return NULL;
}

static int by_name(const void* a, const void* b) { return strcmp(*(char* const*)a, *(char* const*)b); }

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s SPACE_DIR THREADS\n", argv[0]);
    return 2;
  }
  int threads = atoi(argv[2]);
  if (threads < 1 || threads > 256) threads = 1;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  DIR* d = opendir(argv[1]);
  if (d == NULL) {
    perror(argv[1]);
    return 1;
  }
  struct dirent* e;
  while ((e = readdir(d)) != NULL && nbuckets < MAX_BUCKETS) {
    if (e->d_name[0] == '.') continue;
    size_t len = strlen(argv[1]) + strlen(e->d_name) + 2;
    buckets[nbuckets] = malloc(len);
    snprintf(buckets[nbuckets++], len, "%s/%s", argv[1], e->d_name);
  }
  closedir(d);
  qsort(buckets, (size_t)nbuckets, sizeof buckets[0], by_name);
  pthread_t tids[256];
  for (int i = 0; i < threads; i++) pthread_create(&tids[i], NULL, worker, NULL);
  for (int i = 0; i < threads; i++) pthread_join(tids[i], NULL);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  printf("{\"files\": %ld, \"seconds\": %.6f, \"cpuSeconds\": %.6f, \"threads\": %d}\n", atomic_load(&total_files), secs, cpu,
         threads);
  return 0;
}
