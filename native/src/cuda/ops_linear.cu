// ops_linear.cu — Y[M, N] = X[M, K] W[N, K]^T (+ bias) (activation), three ways:
//
//  * M <= 8 (decode): one warp per output feature streams its weight row once with 16-byte loads and
//    dots it with every X row. Float weights: f32 FMAs. Q8_0/Q4_0: X is first quantized to Q8_0 per
//    32-block, as the CPU backend does (same bytes as its reference quantizer), and each block's
//    integer dot product (dp4a on the weights unpacked in registers) is scaled by the two block scales.
//  * F16/BF16 weights, M > 8 (prefill): tensor cores (mma.sync m16n8k16, f32 accumulation) with the
//    activations split into 16-bit parts whose sum carries f32's precision: for F16 two parts of a
//    row scaled by a power of two (so no part over- or underflows f16), for BF16 three parts. The
//    weights are exact in their own type, so the products keep f32 accuracy at 2-3 MMAs per term.
//  * Q8_0/Q4_0 weights, M > 8: int8 tensor cores (mma.sync m16n8k32), one MMA per 32-block of K, the
//    integer result scaled by the two block scales: the quantized CPU product, exactly.
//  * F32 weights, M > 8: tiled f32 FMA (the conformance fixtures' weights).
// Fragment layouts of mma.sync (PTX ISA, "Matrix Fragments for mma.m16n8k16 / m16n8k32"), with
// g = lane / 4, t = lane % 4, one 32-bit register = 2 halves or 4 int8 along K:
//   A (16 x K-step, row-major): reg0 = row g, K-word t; reg1 = row g+8, word t; reg2 = row g, word t+4;
//                                reg3 = row g+8, word t+4
//   B (K-step x 8, one column = one weight row): reg0 = row (n) g, word t; reg1 = row g, word t+4
//   C (16 x 8 f32 / s32): c0, c1 = row g, columns 2t, 2t+1; c2, c3 = row g+8, same columns
#include "act.cuh"
#include "kernels.cuh"

namespace panopt {
namespace cuda {

namespace {

// ---------------------------------------------------------------- decode: one warp per output

constexpr int kGemvWarps = 8;

// The end of a GEMV warp: each row's partial sums over the lanes, then bias and activation by lane 0.
template <int MR>
__device__ __forceinline__ void gemv_store(float (&acc)[MR], int64_t M, int64_t N, int64_t n, int lane, const void* bias,
                                           int32_t bdt, int32_t act, float* y) {
#pragma unroll
    for (int m = 0; m < MR; m++) acc[m] = warp_sum(acc[m]);
    if (lane == 0) {
        const float bv = bias ? load_elem(bias, bdt, n) : 0.0f;
#pragma unroll
        for (int m = 0; m < MR; m++)
            if (m < M) y[m * N + n] = act_apply(act, acc[m] + bv);
    }
}

template <int WT> __device__ __forceinline__ void load16(const unsigned char* p, float* f) {
    const uint4 v = *reinterpret_cast<const uint4*>(p);
    const uint32_t w[4] = {v.x, v.y, v.z, v.w};
    if constexpr (WT == PANOPT_DTYPE_F32) {
#pragma unroll
        for (int i = 0; i < 4; i++) f[i] = __uint_as_float(w[i]);
    } else if constexpr (WT == PANOPT_DTYPE_F16) {
#pragma unroll
        for (int i = 0; i < 4; i++) {
            const float2 t = __half22float2(*reinterpret_cast<const __half2*>(&w[i]));
            f[2 * i] = t.x;
            f[2 * i + 1] = t.y;
        }
    } else {
#pragma unroll
        for (int i = 0; i < 4; i++) {
            const float2 t = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(&w[i]));
            f[2 * i] = t.x;
            f[2 * i + 1] = t.y;
        }
    }
}

template <int WT, int MR>
__global__ void __launch_bounds__(kGemvWarps * 32)
    gemv_float_kernel(const float* __restrict__ x, int64_t M, int64_t K, const unsigned char* __restrict__ w, int64_t ld,
                      const void* bias, int32_t bdt, float* __restrict__ y, int64_t N, int32_t act) {
    constexpr int VEC = WT == PANOPT_DTYPE_F32 ? 4 : 8; // elements per 16-byte load
    const int lane = threadIdx.x & 31;
    const int64_t n = (int64_t)blockIdx.x * kGemvWarps + (threadIdx.x >> 5);
    if (n >= N) return;
    const unsigned char* wr = w + n * ld;
    float acc[MR];
#pragma unroll
    for (int m = 0; m < MR; m++) acc[m] = 0.0f;
    const int64_t nv = K / VEC;
    const bool xvec = (K & 3) == 0 && ((uintptr_t)x & 15) == 0; // X rows 16-byte aligned
#pragma unroll 2
    for (int64_t c = lane; c < nv; c += 32) {
        float wf[VEC];
        load16<WT>(wr + c * 16, wf);
#pragma unroll
        for (int m = 0; m < MR; m++) {
            if (m < M) {
                const float* xr = x + m * K + c * VEC;
                float s = acc[m];
                if (xvec) {
#pragma unroll
                    for (int q = 0; q < VEC / 4; q++) {
                        const float4 xv = *reinterpret_cast<const float4*>(xr + 4 * q);
                        s += wf[4 * q] * xv.x + wf[4 * q + 1] * xv.y + wf[4 * q + 2] * xv.z + wf[4 * q + 3] * xv.w;
                    }
                } else {
#pragma unroll
                    for (int q = 0; q < VEC; q++) s += wf[q] * xr[q];
                }
                acc[m] = s;
            }
        }
    }
    for (int64_t k = nv * VEC + lane; k < K; k += 32) {
        const float wk = load_elem(wr, WT, k);
#pragma unroll
        for (int m = 0; m < MR; m++)
            if (m < M) acc[m] += wk * x[m * K + k];
    }
    gemv_store<MR>(acc, M, N, n, lane, bias, bdt, act, y);
}

// 8 words = 32 int8 weights of a block, in element order.
template <int WT> __device__ __forceinline__ void load_block_q(const unsigned char* row, int64_t b, int* wv) {
    if constexpr (WT == PANOPT_DTYPE_Q8_0) {
        const int4 v0 = *reinterpret_cast<const int4*>(row + b * QK);
        const int4 v1 = *reinterpret_cast<const int4*>(row + b * QK + 16);
        wv[0] = v0.x, wv[1] = v0.y, wv[2] = v0.z, wv[3] = v0.w;
        wv[4] = v1.x, wv[5] = v1.y, wv[6] = v1.z, wv[7] = v1.w;
    } else { // Q4_0: byte j holds element j (low nibble) and j + 16 (high); values q - 8
        const int4 v = *reinterpret_cast<const int4*>(row + b * (QK / 2));
        const int s[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
        for (int t = 0; t < 4; t++) {
            wv[t] = (int)__vsub4((unsigned)s[t] & 0x0F0F0F0Fu, 0x08080808u);
            wv[t + 4] = (int)__vsub4(((unsigned)s[t] >> 4) & 0x0F0F0F0Fu, 0x08080808u);
        }
    }
}

template <int WT, int MR>
__global__ void __launch_bounds__(kGemvWarps * 32)
    gemv_quant_kernel(const int8_t* __restrict__ xq, const float* __restrict__ xd, int64_t M, int64_t K, DevTensor w,
                      const void* bias, int32_t bdt, float* __restrict__ y, int64_t N, int32_t act) {
    const int lane = threadIdx.x & 31;
    const int64_t n = (int64_t)blockIdx.x * kGemvWarps + (threadIdx.x >> 5);
    if (n >= N) return;
    const int64_t nb = K / QK;
    const unsigned char* wr = w.data + n * w.ld;
    const __half* ws = w.scales + n * nb;
    float acc[MR];
#pragma unroll
    for (int m = 0; m < MR; m++) acc[m] = 0.0f;
    for (int64_t b = lane; b < nb; b += 32) {
        int wv[8];
        load_block_q<WT>(wr, b, wv);
        const float dw = __half2float(ws[b]);
#pragma unroll
        for (int m = 0; m < MR; m++) {
            if (m < M) {
                const int4 x0 = *reinterpret_cast<const int4*>(xq + m * K + b * QK);
                const int4 x1 = *reinterpret_cast<const int4*>(xq + m * K + b * QK + 16);
                int s = __dp4a(wv[0], x0.x, 0);
                s = __dp4a(wv[1], x0.y, s);
                s = __dp4a(wv[2], x0.z, s);
                s = __dp4a(wv[3], x0.w, s);
                s = __dp4a(wv[4], x1.x, s);
                s = __dp4a(wv[5], x1.y, s);
                s = __dp4a(wv[6], x1.z, s);
                s = __dp4a(wv[7], x1.w, s);
                acc[m] += (float)s * (dw * xd[m * nb + b]);
            }
        }
    }
    gemv_store<MR>(acc, M, N, n, lane, bias, bdt, act, y);
}

// ---------------------------------------------------------------- activation preparation

// X rows to Q8_0 per 32-block, as the reference quantizer (quant/quants_ref.cpp): d = amax / 127,
// q = roundf(x / d) (x * (1/d)), d stored as f16. One warp per block; values [M][K], scales [M][K/32].
__global__ void quantize_q8_kernel(const float* __restrict__ x, int64_t M, int64_t K, int8_t* __restrict__ xq,
                                   float* __restrict__ xd) {
    const int64_t nb = K / QK;
    const int64_t blk = (int64_t)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
    if (blk >= M * nb) return; // the whole warp
    const int lane = threadIdx.x & 31;
    const int64_t m = blk / nb, b = blk % nb;
    const float v = x[m * K + b * QK + lane];
    const float amax = warp_max(fabsf(v));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    xq[m * K + b * QK + lane] = (int8_t)roundf(v * id);
    if (lane == 0) xd[blk] = __half2float(__float2half_rn(d));
}

// F16 split: row r scaled by s = 2^(14 - e), e the exponent of its largest |x|, so every value lies
// under 2^15; hi = f16(x s), lo = f16(x s - hi). inv_scale[r] = 1/s (exact). Planes [2][M][Kp],
// zero beyond K.
__global__ void split_f16_kernel(const float* __restrict__ x, int64_t M, int64_t K, int64_t Kp, __half* __restrict__ a,
                                 float* __restrict__ inv_scale) {
    __shared__ float red[32];
    const int64_t r = blockIdx.x;
    const float* xr = x + r * K;
    float amax = 0.0f;
    for (int64_t k = threadIdx.x; k < K; k += blockDim.x) amax = fmaxf(amax, fabsf(xr[k]));
    amax = block_max(amax, red);
    float s = 1.0f, inv = 1.0f;
    if (amax > 0.0f && amax <= 3.402823466e38f) {
        const int e = min(max(ilogbf(amax), -100), 100);
        s = ldexpf(1.0f, 14 - e);
        inv = ldexpf(1.0f, e - 14);
    }
    if (threadIdx.x == 0) inv_scale[r] = inv;
    __half* hi = a + r * Kp;
    __half* lo = a + (M + r) * Kp;
    for (int64_t k = threadIdx.x; k < Kp; k += blockDim.x) {
        const float v = k < K ? xr[k] * s : 0.0f;
        const __half h = __float2half_rn(v);
        hi[k] = h;
        lo[k] = __float2half_rn(v - __half2float(h));
    }
}

// BF16 split: x = b1 + b2 + b3 (each the bf16 rounding of what is left). Planes [3][M][Kp].
__global__ void split_bf16_kernel(const float* __restrict__ x, int64_t M, int64_t K, int64_t Kp,
                                  __nv_bfloat16* __restrict__ a) {
    const int64_t r = blockIdx.x;
    const float* xr = x + r * K;
    for (int64_t k = threadIdx.x; k < Kp; k += blockDim.x) {
        const float v = k < K ? xr[k] : 0.0f;
        const __nv_bfloat16 b1 = __float2bfloat16_rn(v);
        const float r1 = v - __bfloat162float(b1);
        const __nv_bfloat16 b2 = __float2bfloat16_rn(r1);
        const __nv_bfloat16 b3 = __float2bfloat16_rn(r1 - __bfloat162float(b2));
        a[r * Kp + k] = b1;
        a[(M + r) * Kp + k] = b2;
        a[(2 * M + r) * Kp + k] = b3;
    }
}

// ---------------------------------------------------------------- prefill: tensor cores

enum MmaKind { MMA_F16 = 0, MMA_BF16 = 1, MMA_Q8 = 2, MMA_Q4 = 3 };
constexpr int MBM = 64, MBN = 128, MT = 256; // block tile; 8 warps as 2 (M) x 4 (N), 32 x 32 each
// K per stage: 32 elements (two 16-wide MMA steps, or one quantized block).

template <int KIND> struct MmaCfg {
    static constexpr bool Q = KIND == MMA_Q8 || KIND == MMA_Q4;
    static constexpr int P = KIND == MMA_F16 ? 2 : KIND == MMA_BF16 ? 3 : 1; // activation planes
    // Shared rows: 64 B of 16-bit values + 16 B pad (20 words: rows g = 0..7 hit distinct banks), or
    // 32 B of int8 + 16 B pad (12 words: likewise).
    static constexpr int AS = Q ? 48 : 80;
    static constexpr int BS = Q ? 48 : 80;
    static constexpr int A_BYTES = P * MBM * AS;
    static constexpr int B_BYTES = MBN * BS;
    static constexpr int SC_BYTES = Q ? (MBM + MBN) * 4 : 0;
    static constexpr int STAGE = A_BYTES + B_BYTES + SC_BYTES;
    static constexpr int SMEM = 2 * STAGE;
};

__device__ __forceinline__ void cp_async16(void* smem, const void* gmem, bool pred) {
    const unsigned s = (unsigned)__cvta_generic_to_shared(smem);
    const int n = pred ? 16 : 0; // 0: fill with zeros, read nothing
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(s), "l"(gmem), "r"(n) : "memory");
}
// "memory": no shared-memory access moves across the commit or the wait
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
template <int N> __device__ __forceinline__ void cp_async_wait() {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

__device__ __forceinline__ uint32_t lds32(const unsigned char* p) { return *reinterpret_cast<const uint32_t*>(p); }

template <int KIND> __device__ __forceinline__ void mma16(float* c, const uint32_t* a, const uint32_t* b) {
    if constexpr (KIND == MMA_F16) {
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                     "{%0,%1,%2,%3};\n"
                     : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
    } else {
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                     "{%0,%1,%2,%3};\n"
                     : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
    }
}

__device__ __forceinline__ void mma_s8(int* c, const uint32_t* a, const uint32_t* b) {
    asm volatile("mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                 "{%0,%1,%2,%3};\n"
                 : "+r"(c[0]), "+r"(c[1]), "+r"(c[2]), "+r"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

template <int KIND> __global__ void __launch_bounds__(MT) mma_gemm_kernel(const LinearP p) {
    using C = MmaCfg<KIND>;
    extern __shared__ __align__(16) unsigned char smem[];
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, g = lane >> 2, t4 = lane & 3;
    const int wm = warp >> 2, wn = warp & 3;
    const int64_t m0 = (int64_t)blockIdx.y * MBM, n0 = (int64_t)blockIdx.x * MBN;
    const int64_t M = p.M, N = p.N, K = p.K;
    const int64_t Kp = C::Q ? K : (K + 31) / 32 * 32;
    const int64_t nk = Kp / 32, nb = K / QK;
    const unsigned char* A = static_cast<const unsigned char*>(p.a);

    auto load_stage = [&](int64_t kt, int s) {
        unsigned char* As = smem + s * C::STAGE;
        unsigned char* Bs = As + C::A_BYTES;
        if constexpr (!C::Q) {
            for (int c = tid; c < C::P * MBM * 4; c += MT) { // planes x rows x 16-byte chunks
                const int pl = c / (MBM * 4), r = (c / 4) % MBM, part = c % 4;
                const bool ok = m0 + r < M;
                const unsigned char* src = A + ((pl * M + (ok ? m0 + r : 0)) * Kp + kt * 32) * 2 + part * 16;
                cp_async16(As + (pl * MBM + r) * C::AS + part * 16, src, ok);
            }
            for (int c = tid; c < MBN * 4; c += MT) {
                const int r = c / 4, part = c % 4;
                const bool ok = n0 + r < N;
                cp_async16(Bs + r * C::BS + part * 16, p.w.data + (ok ? n0 + r : 0) * p.w.ld + kt * 64 + part * 16, ok);
            }
        } else {
            for (int c = tid; c < MBM * 2; c += MT) {
                const int r = c / 2, part = c % 2;
                const bool ok = m0 + r < M;
                cp_async16(As + r * C::AS + part * 16, A + (ok ? m0 + r : 0) * K + kt * QK + part * 16, ok);
            }
            constexpr int CH = KIND == MMA_Q8 ? 2 : 1;      // 16-byte chunks of a block
            constexpr int BROW = KIND == MMA_Q8 ? 32 : 16; // bytes of a block
            for (int c = tid; c < MBN * CH; c += MT) {
                const int r = c / CH, part = c % CH;
                const bool ok = n0 + r < N;
                cp_async16(Bs + r * C::BS + part * 16, p.w.data + (ok ? n0 + r : 0) * p.w.ld + kt * BROW + part * 16, ok);
            }
            float* dx = reinterpret_cast<float*>(Bs + C::B_BYTES);
            float* dw = dx + MBM;
            if (tid < MBM) {
                dx[tid] = m0 + tid < M ? p.a_scale[(m0 + tid) * nb + kt] : 0.0f;
            } else if (tid < MBM + MBN) {
                const int r = tid - MBM;
                dw[r] = n0 + r < N ? __half2float(p.w.scales[(n0 + r) * nb + kt]) : 0.0f;
            }
        }
    };

    float acc[2][4][4];
#pragma unroll
    for (int i = 0; i < 2; i++)
#pragma unroll
        for (int j = 0; j < 4; j++)
#pragma unroll
            for (int e = 0; e < 4; e++) acc[i][j][e] = 0.0f;

    load_stage(0, 0);
    cp_async_commit();
    for (int64_t kt = 0; kt < nk; kt++) {
        if (kt + 1 < nk) {
            load_stage(kt + 1, (int)((kt + 1) & 1));
            cp_async_commit();
            cp_async_wait<1>();
        } else {
            cp_async_wait<0>();
        }
        __syncthreads();
        const unsigned char* As = smem + (kt & 1) * C::STAGE;
        const unsigned char* Bs = As + C::A_BYTES;
        if constexpr (!C::Q) {
#pragma unroll
            for (int ks = 0; ks < 32; ks += 16) {
                uint32_t bf[4][2];
#pragma unroll
                for (int j = 0; j < 4; j++) {
                    const unsigned char* br = Bs + (wn * 32 + j * 8 + g) * C::BS + (ks + t4 * 2) * 2;
                    bf[j][0] = lds32(br);
                    bf[j][1] = lds32(br + 16);
                }
#pragma unroll
                for (int pl = 0; pl < C::P; pl++)
#pragma unroll
                    for (int i = 0; i < 2; i++) {
                        const unsigned char* ar = As + (pl * MBM + wm * 32 + i * 16 + g) * C::AS + (ks + t4 * 2) * 2;
                        const uint32_t af[4] = {lds32(ar), lds32(ar + 8 * C::AS), lds32(ar + 16), lds32(ar + 8 * C::AS + 16)};
#pragma unroll
                        for (int j = 0; j < 4; j++) mma16<KIND>(acc[i][j], af, bf[j]);
                    }
            }
        } else {
            const float* dx = reinterpret_cast<const float*>(Bs + C::B_BYTES);
            const float* dw = dx + MBM;
            uint32_t bf[4][2];
#pragma unroll
            for (int j = 0; j < 4; j++) {
                const unsigned char* br = Bs + (wn * 32 + j * 8 + g) * C::BS + t4 * 4;
                if constexpr (KIND == MMA_Q8) {
                    bf[j][0] = lds32(br);
                    bf[j][1] = lds32(br + 16);
                } else {
                    const uint32_t v = lds32(br);
                    bf[j][0] = __vsub4(v & 0x0F0F0F0Fu, 0x08080808u);
                    bf[j][1] = __vsub4((v >> 4) & 0x0F0F0F0Fu, 0x08080808u);
                }
            }
#pragma unroll
            for (int i = 0; i < 2; i++) {
                const int rl = wm * 32 + i * 16 + g;
                const unsigned char* ar = As + rl * C::AS + t4 * 4;
                const uint32_t af[4] = {lds32(ar), lds32(ar + 8 * C::AS), lds32(ar + 16), lds32(ar + 8 * C::AS + 16)};
                const float dxl = dx[rl], dxh = dx[rl + 8];
#pragma unroll
                for (int j = 0; j < 4; j++) {
                    int c[4] = {0, 0, 0, 0};
                    mma_s8(c, af, bf[j]);
                    const int col = wn * 32 + j * 8 + t4 * 2;
                    const float dw0 = dw[col], dw1 = dw[col + 1];
                    acc[i][j][0] += (float)c[0] * (dw0 * dxl);
                    acc[i][j][1] += (float)c[1] * (dw1 * dxl);
                    acc[i][j][2] += (float)c[2] * (dw0 * dxh);
                    acc[i][j][3] += (float)c[3] * (dw1 * dxh);
                }
            }
        }
        __syncthreads();
    }

#pragma unroll
    for (int i = 0; i < 2; i++)
#pragma unroll
        for (int j = 0; j < 4; j++)
#pragma unroll
            for (int e = 0; e < 4; e++) {
                const int64_t r = m0 + wm * 32 + i * 16 + g + (e >> 1) * 8;
                const int64_t c = n0 + wn * 32 + j * 8 + t4 * 2 + (e & 1);
                if (r < M && c < N) {
                    float v = acc[i][j][e];
                    if constexpr (KIND == MMA_F16) v *= p.a_scale[r];
                    if (p.bias) v += load_elem(p.bias, p.bdt, c);
                    p.y[r * N + c] = act_apply(p.act, v);
                }
            }
}

// ---------------------------------------------------------------- prefill: F32 weights

constexpr int SBM = 64, SBN = 64, SBK = 16;

__global__ void __launch_bounds__(256) simt_gemm_kernel(const LinearP p) {
    __shared__ __align__(16) float As[SBK][SBM + 4];
    __shared__ __align__(16) float Bs[SBK][SBN + 4];
    const int tid = threadIdx.x, ty = tid / 16, tx = tid % 16;
    const int64_t m0 = (int64_t)blockIdx.y * SBM, n0 = (int64_t)blockIdx.x * SBN;
    const int64_t M = p.M, N = p.N, K = p.K;
    float acc[4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) acc[i][j] = 0.0f;
    for (int64_t k0 = 0; k0 < K; k0 += SBK) {
        for (int e = tid; e < SBM * SBK; e += 256) {
            const int r = e / SBK, kk = e % SBK;
            const int64_t gk = k0 + kk;
            As[kk][r] = (m0 + r < M && gk < K) ? p.x[(m0 + r) * K + gk] : 0.0f;
            Bs[kk][r] = (n0 + r < N && gk < K) ? reinterpret_cast<const float*>(p.w.data + (n0 + r) * p.w.ld)[gk] : 0.0f;
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < SBK; kk++) {
            const float4 a4 = *reinterpret_cast<const float4*>(&As[kk][ty * 4]);
            const float4 b4 = *reinterpret_cast<const float4*>(&Bs[kk][tx * 4]);
            const float a[4] = {a4.x, a4.y, a4.z, a4.w}, b[4] = {b4.x, b4.y, b4.z, b4.w};
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) acc[i][j] += a[i] * b[j];
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const int64_t r = m0 + ty * 4 + i, c = n0 + tx * 4 + j;
            if (r < M && c < N) {
                float v = acc[i][j];
                if (p.bias) v += load_elem(p.bias, p.bdt, c);
                p.y[r * N + c] = act_apply(p.act, v);
            }
        }
}

// ---------------------------------------------------------------- dispatch

bool is_block(int32_t dt) { return dt == PANOPT_DTYPE_Q8_0 || dt == PANOPT_DTYPE_Q4_0; }

template <int WT, int MR> void launch_gemv(const LinearP& p, cudaStream_t s) {
    const unsigned grid = grid_for(p.N, kGemvWarps);
    if constexpr (WT == PANOPT_DTYPE_Q8_0 || WT == PANOPT_DTYPE_Q4_0)
        gemv_quant_kernel<WT, MR><<<grid, kGemvWarps * 32, 0, s>>>(static_cast<const int8_t*>(p.a), p.a_scale, p.M, p.K,
                                                                   p.w, p.bias, p.bdt, p.y, p.N, p.act);
    else
        gemv_float_kernel<WT, MR><<<grid, kGemvWarps * 32, 0, s>>>(p.x, p.M, p.K, p.w.data, p.w.ld, p.bias, p.bdt, p.y,
                                                                   p.N, p.act);
    PCU_LAUNCHED();
}

template <int WT> void gemv_rows(const LinearP& p, cudaStream_t s) {
    if (p.M == 1) launch_gemv<WT, 1>(p, s);
    else if (p.M == 2) launch_gemv<WT, 2>(p, s);
    else if (p.M <= 4) launch_gemv<WT, 4>(p, s);
    else launch_gemv<WT, 8>(p, s);
}

template <int KIND> void launch_mma(const LinearP& p, cudaStream_t s) {
    const dim3 grid(grid_for(p.N, MBN), grid_for(p.M, MBM));
    mma_gemm_kernel<KIND><<<grid, MT, MmaCfg<KIND>::SMEM, s>>>(p);
    PCU_LAUNCHED();
}

void quantize_x(const LinearP& p, cudaStream_t s) {
    const int64_t blocks = p.M * (p.K / QK);
    quantize_q8_kernel<<<grid_for(blocks, 8), 256, 0, s>>>(p.x, p.M, p.K, static_cast<int8_t*>(p.a), p.a_scale);
    PCU_LAUNCHED();
}

} // namespace

void linear_plan(LinearP& p, size_t& a_bytes, size_t& scale_bytes) {
    a_bytes = scale_bytes = 0;
    const int32_t wt = p.w.dtype;
    if (p.K != p.w.cols || p.N != p.w.rows) fail(PANOPT_ERR_INTERNAL, "linear: weight shape does not match");
    if (is_block(wt)) { // Q8_0 activations (K is a whole number of blocks: the weight's rows are)
        a_bytes = (size_t)(p.M * p.K);
        scale_bytes = (size_t)(p.M * (p.K / QK)) * sizeof(float);
    }
    if (p.M <= kGemvMaxRows) {
        p.path = LIN_GEMV;
    } else if (wt == PANOPT_DTYPE_F32) {
        p.path = LIN_SIMT_F32;
    } else {
        p.path = LIN_MMA;
        const int64_t Kp = (p.K + 31) / 32 * 32;
        if (wt == PANOPT_DTYPE_F16) {
            a_bytes = (size_t)(2 * p.M * Kp) * 2;
            scale_bytes = (size_t)p.M * sizeof(float);
        } else if (wt == PANOPT_DTYPE_BF16) {
            a_bytes = (size_t)(3 * p.M * Kp) * 2;
        }
    }
    if (p.M > (int64_t)65535 * 64) fail(PANOPT_ERR_UNSUPPORTED, "linear: more than 4194240 rows in one product");
}

void run_linear(const LinearP& recorded, const PassCtx& c) {
    LinearP p = recorded;
    p.a = c.temp + recorded.a_off;
    p.a_scale = reinterpret_cast<float*>(c.temp + recorded.scale_off);
    const cudaStream_t s = c.stream;
    const int32_t wt = p.w.dtype;
    if (is_block(wt)) quantize_x(p, s);
    if (p.path == LIN_GEMV) {
        switch (wt) {
        case PANOPT_DTYPE_F32: gemv_rows<PANOPT_DTYPE_F32>(p, s); break;
        case PANOPT_DTYPE_F16: gemv_rows<PANOPT_DTYPE_F16>(p, s); break;
        case PANOPT_DTYPE_BF16: gemv_rows<PANOPT_DTYPE_BF16>(p, s); break;
        case PANOPT_DTYPE_Q8_0: gemv_rows<PANOPT_DTYPE_Q8_0>(p, s); break;
        case PANOPT_DTYPE_Q4_0: gemv_rows<PANOPT_DTYPE_Q4_0>(p, s); break;
        default: fail(PANOPT_ERR_INTERNAL, "linear: weight type");
        }
        return;
    }
    if (p.path == LIN_SIMT_F32) {
        simt_gemm_kernel<<<dim3(grid_for(p.N, SBN), grid_for(p.M, SBM)), 256, 0, s>>>(p);
        PCU_LAUNCHED();
        return;
    }
    const int64_t Kp = (p.K + 31) / 32 * 32;
    switch (wt) {
    case PANOPT_DTYPE_F16:
        split_f16_kernel<<<(unsigned)p.M, 256, 0, s>>>(p.x, p.M, p.K, Kp, static_cast<__half*>(p.a), p.a_scale);
        PCU_LAUNCHED();
        launch_mma<MMA_F16>(p, s);
        break;
    case PANOPT_DTYPE_BF16:
        split_bf16_kernel<<<(unsigned)p.M, 256, 0, s>>>(p.x, p.M, p.K, Kp, static_cast<__nv_bfloat16*>(p.a));
        PCU_LAUNCHED();
        launch_mma<MMA_BF16>(p, s);
        break;
    case PANOPT_DTYPE_Q8_0: launch_mma<MMA_Q8>(p, s); break;
    case PANOPT_DTYPE_Q4_0: launch_mma<MMA_Q4>(p, s); break;
    default: fail(PANOPT_ERR_INTERNAL, "linear: weight type");
    }
}

void linear_configure(const cudaDeviceProp& props) {
    (void)props;
    PCU_CHECK(cudaFuncSetAttribute(mma_gemm_kernel<MMA_F16>, cudaFuncAttributeMaxDynamicSharedMemorySize, MmaCfg<MMA_F16>::SMEM));
    PCU_CHECK(cudaFuncSetAttribute(mma_gemm_kernel<MMA_BF16>, cudaFuncAttributeMaxDynamicSharedMemorySize, MmaCfg<MMA_BF16>::SMEM));
    PCU_CHECK(cudaFuncSetAttribute(mma_gemm_kernel<MMA_Q8>, cudaFuncAttributeMaxDynamicSharedMemorySize, MmaCfg<MMA_Q8>::SMEM));
    PCU_CHECK(cudaFuncSetAttribute(mma_gemm_kernel<MMA_Q4>, cudaFuncAttributeMaxDynamicSharedMemorySize, MmaCfg<MMA_Q4>::SMEM));
}

} // namespace cuda
} // namespace panopt
