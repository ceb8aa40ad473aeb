// Force-included (-include) into libpanopt's objects when they are built against the glibc sysroot
// (see CMakeLists.txt). glibc 2.29 gave exp, exp2, log, log2 and pow new default symbol versions;
// binding the original ones keeps libpanopt.so loadable on glibc 2.28 (RHEL 8 and its rebuilds).
// Same results; the old entry points only add SVID error handling. Unused names cost nothing.
#pragma once
#include <features.h>
#if defined(__GLIBC__) && defined(__x86_64__)
__asm__(".symver exp,exp@GLIBC_2.2.5");
__asm__(".symver exp2,exp2@GLIBC_2.2.5");
__asm__(".symver log,log@GLIBC_2.2.5");
__asm__(".symver log2,log2@GLIBC_2.2.5");
__asm__(".symver pow,pow@GLIBC_2.2.5");
#endif
