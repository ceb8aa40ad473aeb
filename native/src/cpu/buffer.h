// buffer.h — a growable, 64-byte aligned, uninitialised float buffer (scratch memory).
#ifndef PANOPT_CPU_BUFFER_H
#define PANOPT_CPU_BUFFER_H

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace panopt {

class FloatBuf {
public:
    FloatBuf() = default;
    ~FloatBuf() { std::free(p_); }
    FloatBuf(const FloatBuf&) = delete;
    FloatBuf& operator=(const FloatBuf&) = delete;
    // Ensures room for n floats (contents are NOT preserved when it grows). Throws bad_alloc.
    float* reserve(size_t n) {
        if (n > cap_) {
            size_t bytes = ((n * sizeof(float)) + 63) & ~(size_t)63;
            void* q = std::aligned_alloc(64, bytes ? bytes : 64);
            if (!q) throw std::bad_alloc();
            std::free(p_);
            p_ = static_cast<float*>(q);
            cap_ = n;
        }
        return p_;
    }
    float* data() const { return p_; }
    size_t capacity() const { return cap_; }

private:
    float* p_ = nullptr;
    size_t cap_ = 0;
};

} // namespace panopt

#endif
