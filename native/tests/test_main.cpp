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

int main(int argc, char** argv) {
    std::string which = argc > 1 ? argv[1] : "all";
    if (which == "kernels" || which == "all") run_kernel_tests();
    if (which == "forward" || which == "all") run_forward_tests();
    if (which == "api" || which == "all") run_api_tests();
    if (which == "quant_kernels" || which == "all") run_quant_kernel_tests();
    if (which == "quant" || which == "all") run_quant_format_tests();
    std::printf("%s: %d checks, %d failures\n", which.c_str(), t::g_checks, t::g_failures);
    return t::g_failures ? 1 : 0;
}
