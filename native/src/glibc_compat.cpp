// What the statically linked libstdc++ (GCC 11+) takes from a glibc newer than the one libpanopt.so is
// linked against (glibc 2.31, see tools/glibc-sysroot). Each definition is compiled only when the
// glibc headers in use lack the symbol, is hidden (bound inside libpanopt.so, never exported), and
// keeps the glibc contract, so the library needs nothing above GLIBC_2.31. Built against a newer
// glibc this file is empty.
#include <features.h>

#if defined(__GLIBC__) && (__GLIBC__ == 2 && __GLIBC_MINOR__ < 32)
// glibc 2.32: non-zero while the process has one thread, letting libstdc++ skip atomic reference
// counts. 0 ("may be multi-threaded") is always correct; the static libstdc++ then always uses atomics.
extern "C" {
__attribute__((visibility("hidden"))) char __libc_single_threaded = 0;
}
#endif

#if defined(__GLIBC__) && (__GLIBC__ == 2 && __GLIBC_MINOR__ < 36)
// glibc 2.36: the default source of std::random_device in libstdc++ (Panopt itself never uses one).
// 32 random bits from the kernel: getrandom (glibc 2.25), /dev/urandom where the kernel lacks it.
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

extern "C" __attribute__((visibility("hidden"))) uint32_t arc4random(void) {
    uint32_t v = 0;
    for (;;) {
        ssize_t n = getrandom(&v, sizeof v, 0);
        if (n == static_cast<ssize_t>(sizeof v)) return v;
        if (n < 0 && errno == EINTR) continue;
        break;
    }
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n;
        do {
            n = read(fd, &v, sizeof v);
        } while (n < 0 && errno == EINTR);
        close(fd);
        if (n == static_cast<ssize_t>(sizeof v)) return v;
    }
    abort();  // as glibc's arc4random does when no randomness can be had
}
#endif
