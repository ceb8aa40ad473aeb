// ops_attention.cu — causal self-attention over the cached past and the new positions, in f32, with
// HF's masking (see the CPU reference, cpu/ops_attention.cpp): key j is visible to the query at
// absolute position past + i iff mask[j] == 1 and j <= past + i; a query that sees no key attends
// uniformly to all T = past + S keys, future ones included (HF adds finfo.min to every score); the
// head mask multiplies the probabilities. The cached length (past, T) is read from the staged
// AttnDyn, never from launch parameters, so a decode step's launches are the same at every length.
//
//  * KV write: the new keys/values into the cache (F32, F16, or Q8_0 with the reference quantizer's bytes).
//  * Flash (S > 1): 64 queries per block, 32-key tiles in shared memory, online softmax per query.
//  * Decode (S == 1): the keys split in chunks of 128 (one block each, so long contexts fill the GPU),
//    each chunk's max, sum and weighted values, then one combine per head.
//  * Explicit (the probabilities are an output): whole probability rows in device memory.
#include "../quant/blocks.h"
#include "kernels.cuh"

namespace panopt {
namespace cuda {

namespace {

constexpr int kChunk = 128;     // keys per decode split
constexpr int kDecThreads = 128;
constexpr int kQ8Bytes = (int)sizeof(block_q8_0);
constexpr int kFlashWarps = 8, kTile = 32;

struct AttnPtrs {
    const AttnDyn* dyn;
    const uint8_t* mask; // [B][mask_stride]
    const int32_t* first;
    const float* hm;
};

__device__ __forceinline__ const unsigned char* kv_row(const KvView& v, int64_t b, int64_t h, int64_t j) {
    return v.base + b * v.batch_stride + h * v.head_stride + j * v.pos_stride;
}

__device__ __forceinline__ float kv_elem(int32_t dt, const unsigned char* row, int64_t d) {
    if (dt == PANOPT_DTYPE_F16) return __half2float(reinterpret_cast<const __half*>(row)[d]);
    if (dt == PANOPT_DTYPE_Q8_0) {
        const unsigned char* blk = row + (d / QK) * kQ8Bytes;
        return __half2float(*reinterpret_cast<const __half*>(blk)) * (float)(int8_t)blk[2 + d % QK];
    }
    return reinterpret_cast<const float*>(row)[d];
}

// ---- KV write: one warp per (position, head) ----
__global__ void kv_write_kernel(const KvWriteP p, const AttnDyn* dyn) {
    const int64_t r = blockIdx.x, h = blockIdx.y;
    const int lane = threadIdx.x;
    const int64_t b = r / p.S, i = r % p.S, pos = dyn->past + i;
    for (int which = 0; which < 2; which++) {
        const float* src = (which ? p.v : p.k) + r * p.H + h * p.HD;
        unsigned char* dst = (which ? p.vc : p.kc) + b * p.batch_stride + h * p.head_stride + pos * p.pos_stride;
        for (int64_t d0 = 0; d0 < p.HD; d0 += 32) {
            const int64_t d = d0 + lane;
            if (p.dtype == PANOPT_DTYPE_Q8_0) { // HD is a whole number of blocks (checked at session creation)
                const float x = src[d];
                const float amax = warp_max(fabsf(x));
                const float dd = amax / 127.0f;
                const float id = dd != 0.0f ? 1.0f / dd : 0.0f;
                unsigned char* blk = dst + (d0 / QK) * kQ8Bytes;
                blk[2 + lane] = (unsigned char)(int8_t)roundf(x * id);
                if (lane == 0) *reinterpret_cast<__half*>(blk) = __float2half_rn(dd);
            } else if (d < p.HD) {
                if (p.dtype == PANOPT_DTYPE_F16) reinterpret_cast<__half*>(dst)[d] = __float2half_rn(src[d]);
                else reinterpret_cast<float*>(dst)[d] = src[d];
            }
        }
    }
}

// ---- decode: one block per (split, head, row) ----
__global__ void __launch_bounds__(kDecThreads) attn_decode_kernel(const AttnP p, AttnPtrs ptr) {
    extern __shared__ float sm[];
    const int HD = (int)p.HD;
    const int G = HD < kDecThreads ? kDecThreads / HD : 1; // key groups of the value pass
    float* qs = sm;                 // [HD]
    float* sc = qs + HD;            // [kChunk]
    float* acc = sc + kChunk;       // [G][HD]
    float* red = acc + G * HD;      // [32]
    const int64_t split = blockIdx.x, h = blockIdx.y, b = blockIdx.z;
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, nwarps = kDecThreads / 32;
    const int64_t past = ptr.dyn->past, T = ptr.dyn->T;
    const int64_t j0 = split * kChunk;
    if (j0 >= T) return; // the combine reads only the splits that hold keys
    const int n = (int)min((int64_t)kChunk, T - j0);
    float* part = p.part + ((b * p.NH + h) * p.splits + split) * (p.HD + 2);
    for (int d = tid; d < HD; d += kDecThreads) qs[d] = p.q[b * p.H + h * HD + d] * p.scaling;
    const bool allm = ptr.first[b] > past; // the query (at past) sees no key: uniform over all T
    const uint8_t* mrow = ptr.mask + b * p.mask_stride;
    __syncthreads();
    for (int t = warp; t < n; t += nwarps) { // one key per warp, lanes over head_dim
        const int64_t j = j0 + t;
        float s;
        if (allm) {
            s = 0.0f;
        } else if (!mrow[j]) {
            s = -INFINITY;
        } else {
            const unsigned char* row = kv_row(p.k, b, h, j);
            float part_s = 0.0f;
            for (int d = lane; d < HD; d += 32) part_s += qs[d] * kv_elem(p.k.dtype, row, d);
            s = warp_sum(part_s);
        }
        if (lane == 0) sc[t] = s;
    }
    __syncthreads();
    float loc = -INFINITY;
    for (int t = tid; t < n; t += kDecThreads) loc = fmaxf(loc, sc[t]);
    const float m = block_max(loc, red);
    if (m == -INFINITY) { // no visible key in this chunk
        if (tid == 0) part[0] = -INFINITY, part[1] = 0.0f;
        return;
    }
    float ls = 0.0f;
    for (int t = tid; t < n; t += kDecThreads) {
        const float e = sc[t] == -INFINITY ? 0.0f : expf(sc[t] - m);
        sc[t] = e;
        ls += e;
    }
    const float l = block_sum(ls, red); // its barrier also publishes sc
    for (int idx = tid; idx < G * HD; idx += kDecThreads) {
        const int d = idx % HD, gg = idx / HD;
        float o = 0.0f;
        for (int t = gg; t < n; t += G) {
            const float e = sc[t];
            if (e != 0.0f) o += e * kv_elem(p.v.dtype, kv_row(p.v, b, h, j0 + t), d);
        }
        acc[gg * HD + d] = o;
    }
    __syncthreads();
    for (int d = tid; d < HD; d += kDecThreads) {
        float o = 0.0f;
        for (int gg = 0; gg < G; gg++) o += acc[gg * HD + d];
        part[2 + d] = o;
    }
    if (tid == 0) part[0] = m, part[1] = l;
}

__global__ void attn_combine_kernel(const AttnP p, AttnPtrs ptr) {
    const int64_t h = blockIdx.x, b = blockIdx.y;
    const int64_t T = ptr.dyn->T, used = (T + kChunk - 1) / kChunk, stride = p.HD + 2;
    const float* base = p.part + (b * p.NH + h) * p.splits * stride;
    float M = -INFINITY;
    for (int64_t s = 0; s < used; s++) M = fmaxf(M, base[s * stride]);
    float L = 0.0f;
    for (int64_t s = 0; s < used; s++)
        if (base[s * stride] != -INFINITY) L += base[s * stride + 1] * expf(base[s * stride] - M);
    const float hm = ptr.hm[h];
    for (int64_t d = threadIdx.x; d < p.HD; d += blockDim.x) {
        float o = 0.0f;
        for (int64_t s = 0; s < used; s++)
            if (base[s * stride] != -INFINITY) o += base[s * stride + 2 + d] * expf(base[s * stride] - M);
        p.ctx[b * p.H + h * p.HD + d] = L > 0.0f ? o / L * hm : 0.0f;
    }
}

// ---- flash: one block per (64 queries, head, row); warp w owns queries w*QW .. w*QW+QW-1 ----
size_t flash_smem(int64_t HD, int QW) {
    const int64_t BQ = kFlashWarps * QW;
    return (size_t)(BQ * HD + kTile * (HD | 1) + kTile * HD + BQ * kTile) * sizeof(float);
}

template <int HDMAX, int QW> __global__ void __launch_bounds__(kFlashWarps * 32) attn_flash_kernel(const AttnP p, AttnPtrs ptr) {
    constexpr int BQ = kFlashWarps * QW, NC = HDMAX / 32;
    extern __shared__ float sm[];
    const int HD = (int)p.HD, KS = HD | 1; // odd key-row stride: lanes reading key rows hit distinct banks
    float* Qs = sm;                 // [BQ][HD] scaled queries
    float* Ks = Qs + BQ * HD;       // [kTile][KS]
    float* Vs = Ks + kTile * KS;    // [kTile][HD]
    float* Ps = Vs + kTile * HD;    // [BQ][kTile] probabilities of the tile
    const int tid = threadIdx.x, lane = tid & 31, w = tid >> 5;
    const int64_t q0 = (int64_t)blockIdx.x * BQ, h = blockIdx.y, b = blockIdx.z;
    const int64_t past = ptr.dyn->past, T = ptr.dyn->T, S = p.S;
    const int64_t first = ptr.first[b];
    const uint8_t* mrow = ptr.mask + b * p.mask_stride;

    for (int e = tid; e < BQ * HD; e += blockDim.x) {
        const int r = e / HD, d = e % HD;
        const int64_t i = q0 + r;
        Qs[e] = i < S ? p.q[(b * S + i) * p.H + h * HD + d] * p.scaling : 0.0f;
    }
    bool allm[QW];
    int64_t lim[QW];
    float m[QW], l[QW], o[QW][NC];
#pragma unroll
    for (int r = 0; r < QW; r++) {
        const int64_t i = q0 + w * QW + r;
        allm[r] = i < S && first > past + i;
        lim[r] = i >= S ? -1 : allm[r] ? T - 1 : past + i;
        m[r] = -INFINITY;
        l[r] = 0.0f;
#pragma unroll
        for (int c = 0; c < NC; c++) o[r][c] = 0.0f;
    }
    // keys any query of the block can see: all T if its first query is all-masked (those are a prefix)
    const int64_t jend = first > past + q0 ? T : min(T, past + min(S, q0 + BQ));

    for (int64_t jt = 0; jt < jend; jt += kTile) {
        __syncthreads(); // the previous tile is consumed
        for (int e = tid; e < kTile * HD; e += blockDim.x) {
            const int jj = e / HD, d = e % HD;
            const int64_t j = jt + jj;
            float kv = 0.0f, vv = 0.0f;
            if (j < T) {
                kv = kv_elem(p.k.dtype, kv_row(p.k, b, h, j), d);
                vv = kv_elem(p.v.dtype, kv_row(p.v, b, h, j), d);
            }
            Ks[jj * KS + d] = kv;
            Vs[jj * HD + d] = vv;
        }
        __syncthreads();
        const int64_t j = jt + lane;
        float s[QW];
#pragma unroll
        for (int r = 0; r < QW; r++) s[r] = 0.0f;
        int d = 0;
        if ((HD & 3) == 0) // query rows 16-byte aligned: one vector load serves four elements
            for (; d < HD; d += 4) {
                const float k0 = Ks[lane * KS + d], k1 = Ks[lane * KS + d + 1], k2 = Ks[lane * KS + d + 2],
                            k3 = Ks[lane * KS + d + 3];
#pragma unroll
                for (int r = 0; r < QW; r++) {
                    const float4 q = *reinterpret_cast<const float4*>(&Qs[(w * QW + r) * HD + d]);
                    s[r] += q.x * k0 + q.y * k1 + q.z * k2 + q.w * k3;
                }
            }
        for (; d < HD; d++) {
            const float kd = Ks[lane * KS + d];
#pragma unroll
            for (int r = 0; r < QW; r++) s[r] += Qs[(w * QW + r) * HD + d] * kd;
        }
        const bool mj = j < T && mrow[j];
#pragma unroll
        for (int r = 0; r < QW; r++) {
            const bool vis = j <= lim[r] && (allm[r] || mj);
            const float sv = vis ? (allm[r] ? 0.0f : s[r]) : -INFINITY;
            const float mn = fmaxf(m[r], warp_max(sv));
            float pr = 0.0f, corr = 1.0f;
            if (mn != -INFINITY) {
                pr = vis ? expf(sv - mn) : 0.0f;
                corr = m[r] == -INFINITY ? 0.0f : expf(m[r] - mn);
            }
            l[r] = l[r] * corr + warp_sum(pr);
#pragma unroll
            for (int c = 0; c < NC; c++) o[r][c] *= corr;
            m[r] = mn;
            Ps[(w * QW + r) * kTile + lane] = pr;
        }
        __syncwarp();
        for (int jj = 0; jj < kTile; jj++) {
            float vv[NC];
#pragma unroll
            for (int c = 0; c < NC; c++) vv[c] = lane + 32 * c < HD ? Vs[jj * HD + lane + 32 * c] : 0.0f;
#pragma unroll
            for (int r = 0; r < QW; r++) {
                const float pj = Ps[(w * QW + r) * kTile + jj];
#pragma unroll
                for (int c = 0; c < NC; c++) o[r][c] += pj * vv[c];
            }
        }
    }
    const float hm = ptr.hm[h];
#pragma unroll
    for (int r = 0; r < QW; r++) {
        const int64_t i = q0 + w * QW + r;
        if (i >= S) continue;
#pragma unroll
        for (int c = 0; c < NC; c++) {
            const int d = lane + 32 * c;
            if (d < HD) p.ctx[(b * S + i) * p.H + h * HD + d] = l[r] > 0.0f ? o[r][c] / l[r] * hm : 0.0f;
        }
    }
}

// ---- explicit: one block per (query, head, row); the probabilities are an output ----
__global__ void attn_explicit_kernel(const AttnP p, AttnPtrs ptr) {
    extern __shared__ float sm[];
    const int HD = (int)p.HD;
    float* qs = sm;       // [HD]
    float* red = qs + HD; // [32]
    const int64_t i = blockIdx.x, h = blockIdx.y, b = blockIdx.z, S = p.S, T = p.T_rec;
    const int64_t past = ptr.dyn->past, limit = past + i;
    const bool allm = ptr.first[b] > limit;
    const uint8_t* mrow = ptr.mask + b * p.mask_stride;
    float* pr = p.probs + ((b * p.NH + h) * S + i) * T;
    for (int d = threadIdx.x; d < HD; d += blockDim.x) qs[d] = p.q[(b * S + i) * p.H + h * HD + d] * p.scaling;
    __syncthreads();
    float loc = -INFINITY;
    for (int64_t j = threadIdx.x; j < T; j += blockDim.x) {
        float s = -INFINITY;
        if (!allm && j <= limit && mrow[j]) {
            const unsigned char* row = kv_row(p.k, b, h, j);
            s = 0.0f;
            for (int d = 0; d < HD; d++) s += qs[d] * kv_elem(p.k.dtype, row, d);
        }
        pr[j] = s;
        loc = fmaxf(loc, s);
    }
    const float hm = ptr.hm[h];
    if (allm) {
        const float u = 1.0f / (float)T;
        for (int64_t j = threadIdx.x; j < T; j += blockDim.x) pr[j] = u * hm;
    } else {
        const float mx = block_max(loc, red);
        float ls = 0.0f;
        for (int64_t j = threadIdx.x; j < T; j += blockDim.x) { // each thread its own j: no barrier needed
            const float e = pr[j] == -INFINITY ? 0.0f : expf(pr[j] - mx);
            pr[j] = e;
            ls += e;
        }
        const float inv = 1.0f / block_sum(ls, red);
        for (int64_t j = threadIdx.x; j < T; j += blockDim.x) pr[j] = pr[j] * inv * hm;
    }
    __syncthreads(); // every probability of the row is written
    for (int d = threadIdx.x; d < HD; d += blockDim.x) {
        float o = 0.0f;
        for (int64_t j = 0; j < T; j++) {
            const float pj = pr[j];
            if (pj != 0.0f) o += pj * kv_elem(p.v.dtype, kv_row(p.v, b, h, j), d);
        }
        p.ctx[(b * S + i) * p.H + h * HD + d] = o;
    }
}

template <int HDMAX, int QW> void launch_flash(const AttnP& p, const AttnPtrs& ptr, cudaStream_t s) {
    const int64_t BQ = kFlashWarps * QW;
    const dim3 grid(grid_for(p.S, (int)BQ), (unsigned)p.NH, (unsigned)p.B);
    attn_flash_kernel<HDMAX, QW><<<grid, kFlashWarps * 32, flash_smem(p.HD, QW), s>>>(p, ptr);
    PCU_LAUNCHED();
}

template <int QW> void flash_by_hd(const AttnP& p, const AttnPtrs& ptr, cudaStream_t s) {
    if (p.HD <= 32) launch_flash<32, QW>(p, ptr, s);
    else if (p.HD <= 64) launch_flash<64, QW>(p, ptr, s);
    else if (p.HD <= 128) launch_flash<128, QW>(p, ptr, s);
    else launch_flash<256, QW>(p, ptr, s);
}

template <int HDMAX, int QW> void configure_flash(const cudaDeviceProp& props) {
    const size_t need = flash_smem(HDMAX, QW);
    const size_t cap = props.sharedMemPerBlockOptin;
    PCU_CHECK(cudaFuncSetAttribute(attn_flash_kernel<HDMAX, QW>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                   (int)(need < cap ? need : cap)));
}

} // namespace

int64_t attention_decode_splits(int64_t max_keys) { return (max_keys + kChunk - 1) / kChunk; }

bool attention_flash_fits(int64_t HD, const cudaDeviceProp& props) {
    return HD <= 256 && flash_smem(HD, 2) <= props.sharedMemPerBlockOptin;
}

void attention_configure(const cudaDeviceProp& props) {
    configure_flash<32, 8>(props);
    configure_flash<64, 8>(props);
    configure_flash<128, 8>(props);
    configure_flash<256, 8>(props);
    configure_flash<32, 2>(props);
    configure_flash<64, 2>(props);
    configure_flash<128, 2>(props);
    configure_flash<256, 2>(props);
}

void run_kv_write(const KvWriteP& p, const PassCtx& c) {
    kv_write_kernel<<<dim3((unsigned)(p.B * p.S), (unsigned)p.NH), 32, 0, c.stream>>>(p, staged<AttnDyn>(c, p.dyn_off));
    PCU_LAUNCHED();
}

void run_attention(const AttnP& recorded, const PassCtx& c) {
    AttnP p = recorded;
    p.probs = reinterpret_cast<float*>(c.temp + recorded.probs_off);
    p.part = reinterpret_cast<float*>(c.temp + recorded.part_off);
    const AttnPtrs ptr{staged<AttnDyn>(c, p.dyn_off), staged<uint8_t>(c, p.mask_off), staged<int32_t>(c, p.first_off),
                       staged<float>(c, p.hm_off)};
    switch (p.path) {
    case ATT_EXPLICIT:
        attn_explicit_kernel<<<dim3((unsigned)p.S, (unsigned)p.NH, (unsigned)p.B), 256, (size_t)(p.HD + 32) * sizeof(float),
                               c.stream>>>(p, ptr);
        PCU_LAUNCHED();
        break;
    case ATT_DECODE: {
        const int64_t G = p.HD < kDecThreads ? kDecThreads / p.HD : 1;
        const size_t smem = (size_t)(p.HD + kChunk + G * p.HD + 32) * sizeof(float);
        attn_decode_kernel<<<dim3((unsigned)p.splits, (unsigned)p.NH, (unsigned)p.B), kDecThreads, smem, c.stream>>>(p, ptr);
        PCU_LAUNCHED();
        attn_combine_kernel<<<dim3((unsigned)p.NH, (unsigned)p.B), 128, 0, c.stream>>>(p, ptr);
        PCU_LAUNCHED();
        break;
    }
    default:
        if (flash_smem(p.HD, 8) <= c.props->sharedMemPerBlockOptin) flash_by_hd<8>(p, ptr, c.stream);
        else flash_by_hd<2>(p, ptr, c.stream);
    }
}

} // namespace cuda
} // namespace panopt
