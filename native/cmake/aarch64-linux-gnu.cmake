# Cross-compiling libpanopt for 64-bit ARM Linux with Debian's g++-aarch64-linux-gnu; CTest runs
# the test executables through qemu-user (package qemu-user) with the cross toolchain's sysroot.
# Used by .ci/cross-arm:
#   cmake -S native -B native/build-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DPANOPT_CUDA=OFF
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64;-L;/usr/aarch64-linux-gnu)
