// amx_os.cpp — see amx_os.h. No ISA flags: plain CPUID / XGETBV / a system call.
#include "amx_os.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace panopt {

bool amx_int8_usable() {
#if defined(__x86_64__)
    static const bool usable = [] {
        unsigned a, b, c, d;
        // CPUID.(7,0).EDX: bit 24 AMX-TILE, bit 25 AMX-INT8; CPUID.1.ECX bit 27: XGETBV usable
        if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(d >> 24 & 1) || !(d >> 25 & 1)) return false;
        if (!__get_cpuid(1, &a, &b, &c, &d) || !(c >> 27 & 1)) return false;
        unsigned lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        if ((lo >> 17 & 3) != 3) return false; // XCR0: XTILECFG and XTILEDATA enabled by the OS
        return syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */, 18 /* XFEATURE_XTILEDATA */) == 0;
    }();
    return usable;
#else
    return false;
#endif
}

} // namespace panopt
