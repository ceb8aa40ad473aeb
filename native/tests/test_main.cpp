#include <cstdio>
#include <string>

#include "test_util.h"

namespace t {
int g_failures = 0;
int g_checks = 0;
} // namespace t

int run_kernel_tests();
int run_forward_tests();
int run_api_tests();
int run_quant_kernel_tests();
int run_quant_format_tests();
int run_cuda_host_tests();
int run_cuda_tests(); // 77: skipped (no usable GPU)

int main(int argc, char** argv) {
    // line-buffered even into ctest's pipe: a test that crashes still shows how far it got
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    std::string which = argc > 1 ? argv[1] : "all";
    if (which == "kernels" || which == "all") run_kernel_tests();
    if (which == "forward" || which == "all") run_forward_tests();
    if (which == "api" || which == "all") run_api_tests();
    if (which == "quant_kernels" || which == "all") run_quant_kernel_tests();
    if (which == "quant" || which == "all") run_quant_format_tests();
    if (which == "cuda_host" || which == "all") run_cuda_host_tests();
    int skipped = 0;
    if (which == "cuda" || which == "all") skipped = run_cuda_tests() == 77;
    std::printf("%s: %d checks, %d failures\n", which.c_str(), t::g_checks, t::g_failures);
    if (t::g_failures) return 1;
    return skipped && which == "cuda" ? 77 : 0; // ctest's SKIP_RETURN_CODE
}
