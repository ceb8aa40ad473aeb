// linear.h — multithreaded Y = X W^T + b on top of a kernel table's single-thread linear_range.
#ifndef PANOPT_CPU_LINEAR_H
#define PANOPT_CPU_LINEAR_H

#include <vector>

#include "buffer.h"
#include "kernels.h"
#include "threadpool.h"

namespace panopt {

// scratch: one buffer per pool thread (grown here as needed).
void linear(const Kernels* kt, ThreadPool& pool, std::vector<FloatBuf>& scratch, const LinearArgs& a);

} // namespace panopt

#endif
