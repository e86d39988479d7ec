/*
 * K-quant super-blocks (256 elements): decoders of Q2_K..Q6_K and Q8_K, AVX2 paths for Q4_K,
 * Q5_K and Q6_K with their scalar twins, and ggml's reference quantizers of Q2_K..Q6_K
 * (formats.md 3.6 and 3.7.1). The quantizers reproduce ggml's float operations in ggml's order
 * (summation order included), so their bytes equal llama-quantize's without an importance matrix.
 */
#include "pdg_dequant_more.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define PDG_X86 1
#else
#define PDG_X86 0
#endif

#pragma STDC FP_CONTRACT OFF

#define GROUP_MAX_EPS 1e-15f

static inline uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline float h2f(const uint8_t *p) { return pdg_fp16_to_f32(rd16(p)); }
static inline void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
/* the fp16 rounding of a scale, read back as ggml reads the stored field */
static inline float fp16_round(float f) { return pdg_fp16_to_f32(pdg_f32_to_fp16(f)); }

/* 6-bit scale and min j (0..7) of the 12 packed bytes of Q4_K / Q5_K */
static inline void scale_min_k4(int j, const uint8_t *q, uint8_t *sc, uint8_t *m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

/* ------------------------------------------------------------------ scalar decoders */

void pdg_dequant_q2_k(const void *src, float *dst, size_t n) {
    const uint8_t *s = src;
    for (size_t b = 0; b < n / PDG_QK_K; b++) {
        const uint8_t *blk = s + b * PDG_BYTES_Q2_K;
        const uint8_t *scales = blk, *qs = blk + 16;
        const float d = h2f(blk + 80), dmin = h2f(blk + 82);
        float *y = dst + b * PDG_QK_K;
        for (int e = 0; e < PDG_QK_K; e++) {
            const int h = e / 128, r = e % 128, k = r / 32, l = r % 32;
            const uint8_t sc = scales[8 * h + 2 * k + (l >= 16)];
            const float dl = d * (float)(sc & 0xF), ml = dmin * (float)(sc >> 4);
            const int q = (qs[32 * h + l] >> (2 * k)) & 3;
            y[e] = dl * (float)q - ml;
        }
    }
}

void pdg_dequant_q3_k(const void *src, float *dst, size_t n) {
    const uint8_t *s = src;
    for (size_t b = 0; b < n / PDG_QK_K; b++) {
        const uint8_t *blk = s + b * PDG_BYTES_Q3_K;
        const uint8_t *hmask = blk, *qs = blk + 32, *packed = blk + 96;
        const float d = h2f(blk + 108);
        int scale[16];
        for (int i = 0; i < 16; i++) {
            const int low4 = i < 8 ? packed[i] & 0xF : packed[i - 8] >> 4;
            const int hi2 = (packed[8 + i % 4] >> (2 * (i / 4))) & 3;
            scale[i] = (low4 | (hi2 << 4)) - 32;
        }
        float *y = dst + b * PDG_QK_K;
        for (int e = 0; e < PDG_QK_K; e++) {
            const int h = e / 128, r = e % 128, k = r / 32, l = r % 32;
            const float dl = d * (float)scale[8 * h + 2 * k + (l >= 16)];
            const int q2 = (qs[32 * h + l] >> (2 * k)) & 3;
            const int high = (hmask[l] >> (4 * h + k)) & 1;
            y[e] = dl * (float)(q2 - (high ? 0 : 4));
        }
    }
}

void pdg_dequant_q4_k_ref(const void *src, float *dst, size_t n) {
    const uint8_t *s = src;
    for (size_t b = 0; b < n / PDG_QK_K; b++) {
        const uint8_t *blk = s + b * PDG_BYTES_Q4_K;
        const float d = h2f(blk), dmin = h2f(blk + 2);
        const uint8_t *scales = blk + 4, *qs = blk + 16;
        float *y = dst + b * PDG_QK_K;
        for (int c = 0; c < 4; c++) {
            uint8_t sc, m;
            scale_min_k4(2 * c, scales, &sc, &m);
            const float d1 = d * (float)sc, m1 = dmin * (float)m;
            scale_min_k4(2 * c + 1, scales, &sc, &m);
            const float d2 = d * (float)sc, m2 = dmin * (float)m;
            for (int i = 0; i < 32; i++) {
                y[64 * c + i] = d1 * (float)(qs[32 * c + i] & 0xF) - m1;
                y[64 * c + 32 + i] = d2 * (float)(qs[32 * c + i] >> 4) - m2;
            }
        }
    }
}

void pdg_dequant_q5_k_ref(const void *src, float *dst, size_t n) {
    const uint8_t *s = src;
    for (size_t b = 0; b < n / PDG_QK_K; b++) {
        const uint8_t *blk = s + b * PDG_BYTES_Q5_K;
        const float d = h2f(blk), dmin = h2f(blk + 2);
        const uint8_t *scales = blk + 4, *qh = blk + 16, *qs = blk + 48;
        float *y = dst + b * PDG_QK_K;
        for (int c = 0; c < 4; c++) {
            uint8_t sc, m;
            scale_min_k4(2 * c, scales, &sc, &m);
            const float d1 = d * (float)sc, m1 = dmin * (float)m;
            scale_min_k4(2 * c + 1, scales, &sc, &m);
            const float d2 = d * (float)sc, m2 = dmin * (float)m;
            for (int i = 0; i < 32; i++) {
                const int lo = (qs[32 * c + i] & 0xF) + (((qh[i] >> (2 * c)) & 1) << 4);
                const int hi = (qs[32 * c + i] >> 4) + (((qh[i] >> (2 * c + 1)) & 1) << 4);
                y[64 * c + i] = d1 * (float)lo - m1;
                y[64 * c + 32 + i] = d2 * (float)hi - m2;
            }
        }
    }
}

void pdg_dequant_q6_k_ref(const void *src, float *dst, size_t n) {
    const uint8_t *s = src;
    for (size_t b = 0; b < n / PDG_QK_K; b++) {
        const uint8_t *blk = s + b * PDG_BYTES_Q6_K;
        const uint8_t *ql = blk, *qh = blk + 128;
        const int8_t *scales = (const int8_t *)(blk + 192);
        const float d = h2f(blk + 208);
        float *y = dst + b * PDG_QK_K;
        for (int e = 0; e < PDG_QK_K; e++) {
            const int h = e / 128, r = e % 128, k = r / 32, l = r % 32;
            const int low4 = k < 2 ? ql[64 * h + 32 * k + l] & 0xF : ql[64 * h + 32 * (k - 2) + l] >> 4;
            const int hi2 = (qh[32 * h + l] >> (2 * k)) & 3;
            const int q = (low4 | (hi2 << 4)) - 32;
            y[e] = d * (float)scales[8 * h + 2 * k + (l >= 16)] * (float)q;
        }
    }
}

void pdg_dequant_q8_k(const void *src, float *dst, size_t n) {
    const uint8_t *s = src;
    for (size_t b = 0; b < n / PDG_QK_K; b++) {
        const uint8_t *blk = s + b * PDG_BYTES_Q8_K;
        float d;
        memcpy(&d, blk, 4);
        const int8_t *qs = (const int8_t *)(blk + 4);
        float *y = dst + b * PDG_QK_K;
        for (int j = 0; j < PDG_QK_K; j++) y[j] = d * (float)qs[j];
    }
}

/* ------------------------------------------------------------------ AVX2 decoders */

#if PDG_X86
#define PDG_SIMD __attribute__((target("avx2,f16c,fma")))

/*
 * The decoders below write 1 KiB of floats per 256-value block, so with the output in L2 (a
 * 64 KiB chunk does not fit L1) they are bound by the stores rather than by arithmetic. Two
 * software prefetches keep that bound in reach: the input a couple of KiB ahead, and the output
 * lines a few blocks ahead (never past the end of dst), so the stores find their lines in L1.
 */
#define PF_IN_BYTES 2304
#define PF_OUT_BLOCKS 4

/* `lines` cache lines from `bytes` past p; a prefetch never faults, even past the end of src */
PDG_SIMD static inline void prefetch_ahead(const void *p, size_t bytes, int lines) {
    const uintptr_t a = (uintptr_t)p + bytes;
    for (int k = 0; k < lines; k++) _mm_prefetch((const char *)(a + 64 * (uintptr_t)k), _MM_HINT_T0);
}

/* the 1 KiB of output of block b + PF_OUT_BLOCKS, when that block is still inside dst */
PDG_SIMD static inline void prefetch_out_k(float *y, size_t b, size_t blocks) {
    if (b + PF_OUT_BLOCKS < blocks) prefetch_ahead(y, PF_OUT_BLOCKS * PDG_QK_K * sizeof(float), 16);
}

/* The 8 six-bit scales and 8 mins of Q4_K / Q5_K (scale_min_k4 for j = 0..7), one per byte:
 * bytes 0..3 keep the low 6 bits of q[0..3] (scales) and q[4..7] (mins); bytes 4..7 join the
 * nibbles of q[8..11] with the top 2 bits of q[0..3] (scales) and q[4..7] (mins). */
static inline void scales_mins_k4(const uint8_t *q, uint64_t *scales, uint64_t *mins) {
    uint32_t a, b, c;
    memcpy(&a, q, 4);
    memcpy(&b, q + 4, 4);
    memcpy(&c, q + 8, 4);
    const uint32_t sc_hi = (c & 0x0F0F0F0Fu) | (((a >> 6) & 0x03030303u) << 4);
    const uint32_t m_hi = ((c >> 4) & 0x0F0F0F0Fu) | (((b >> 6) & 0x03030303u) << 4);
    *scales = (uint64_t)(a & 0x3F3F3F3Fu) | ((uint64_t)sc_hi << 32);
    *mins = (uint64_t)(b & 0x3F3F3F3Fu) | ((uint64_t)m_hi << 32);
}

/* d1[j] = d * sc[j] and m1[j] = dmin * m[j] for the 8 sub-blocks, each one float product as in
 * the scalar twin; d and dmin are the two fp16 fields at blk. */
PDG_SIMD static inline void sub_block_factors(const uint8_t *blk, float d1[8], float m1[8]) {
    uint32_t dd;
    memcpy(&dd, blk, 4);
    const __m128 dm = _mm_cvtph_ps(_mm_cvtsi32_si128((int)dd));   /* d, dmin */
    uint64_t sc, m;
    scales_mins_k4(blk + 4, &sc, &m);
    const __m256 scf = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_set_epi64x(0, (long long)sc)));
    const __m256 mf = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_set_epi64x(0, (long long)m)));
    _mm256_storeu_ps(d1, _mm256_mul_ps(_mm256_broadcastss_ps(dm), scf));
    _mm256_storeu_ps(m1, _mm256_mul_ps(_mm256_broadcastss_ps(_mm_movehdup_ps(dm)), mf));
}

/* Each 8 bytes of quants widen once to 32-bit lanes; the low nibbles (sub-block 2c) and the high
 * nibbles (sub-block 2c + 1) come out of them with one and / one shift, then y = d1 * q - m1. */
PDG_SIMD static void q4_k_avx2(const void *src, float *dst, size_t n) {
    const uint8_t *s = src;
    const __m256i low4 = _mm256_set1_epi32(0x0F);
    const size_t blocks = n / PDG_QK_K;
    for (size_t b = 0; b < blocks; b++) {
        const uint8_t *blk = s + b * PDG_BYTES_Q4_K;
        float *y = dst + b * PDG_QK_K;
        prefetch_ahead(blk, PF_IN_BYTES, 3);   /* 144 bytes span at most 3 lines */
        prefetch_out_k(y, b, blocks);
        float d1[8], m1[8];
        sub_block_factors(blk, d1, m1);
        const uint8_t *qs = blk + 16;
        for (int c = 0; c < 4; c++) {
            const __m256 da = _mm256_broadcast_ss(d1 + 2 * c), ma = _mm256_broadcast_ss(m1 + 2 * c);
            const __m256 db = _mm256_broadcast_ss(d1 + 2 * c + 1), mb = _mm256_broadcast_ss(m1 + 2 * c + 1);
            for (int k = 0; k < 4; k++) {
                const __m256i w = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(qs + 32 * c + 8 * k)));
                const __m256 lo = _mm256_cvtepi32_ps(_mm256_and_si256(w, low4));
                const __m256 hi = _mm256_cvtepi32_ps(_mm256_srli_epi32(w, 4));
                _mm256_storeu_ps(y + 64 * c + 8 * k, _mm256_sub_ps(_mm256_mul_ps(da, lo), ma));
                _mm256_storeu_ps(y + 64 * c + 32 + 8 * k, _mm256_sub_ps(_mm256_mul_ps(db, hi), mb));
            }
        }
    }
}

/* The bytes of v shifted left by s (right by -s) in 16-bit lanes: the bits that cross from one
 * byte into the next land only in bits a caller masks off. */
PDG_SIMD static inline __m256i shift16(__m256i v, int s) {
    return s >= 0 ? _mm256_slli_epi16(v, s) : _mm256_srli_epi16(v, -s);
}

/* As Q4_K, with the fifth bit of element 64c + i (bit 2c of qh[i]) or 64c + 32 + i (bit 2c + 1)
 * or-ed in as 16. The 5-bit quants of a chunk are built 32 bytes at a time and parked in q[64],
 * from where each 8 widen to 32-bit lanes with one load. */
PDG_SIMD static void q5_k_avx2(const void *src, float *dst, size_t n) {
    const uint8_t *s = src;
    const __m256i low4 = _mm256_set1_epi8(0x0F), bit4 = _mm256_set1_epi8(0x10);
    const size_t blocks = n / PDG_QK_K;
    for (size_t b = 0; b < blocks; b++) {
        const uint8_t *blk = s + b * PDG_BYTES_Q5_K;
        float *y = dst + b * PDG_QK_K;
        prefetch_ahead(blk, PF_IN_BYTES, 4);   /* 176 bytes span at most 4 lines */
        prefetch_out_k(y, b, blocks);
        float d1[8], m1[8];
        sub_block_factors(blk, d1, m1);
        const __m256i qh = _mm256_loadu_si256((const __m256i *)(blk + 16));
        const uint8_t *qs = blk + 48;
        for (int c = 0; c < 4; c++) {
            const __m256i v = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
            uint8_t q[64];
            _mm256_storeu_si256((__m256i *)q, _mm256_or_si256(_mm256_and_si256(v, low4),
                                                            _mm256_and_si256(shift16(qh, 4 - 2 * c), bit4)));
            _mm256_storeu_si256((__m256i *)(q + 32), _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v, 4), low4),
                                                                   _mm256_and_si256(shift16(qh, 3 - 2 * c), bit4)));
            const __m256 da = _mm256_broadcast_ss(d1 + 2 * c), ma = _mm256_broadcast_ss(m1 + 2 * c);
            const __m256 db = _mm256_broadcast_ss(d1 + 2 * c + 1), mb = _mm256_broadcast_ss(m1 + 2 * c + 1);
            for (int k = 0; k < 4; k++) {
                const __m256 lo = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(q + 8 * k))));
                const __m256 hi = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(q + 32 + 8 * k))));
                _mm256_storeu_ps(y + 64 * c + 8 * k, _mm256_sub_ps(_mm256_mul_ps(da, lo), ma));
                _mm256_storeu_ps(y + 64 * c + 32 + 8 * k, _mm256_sub_ps(_mm256_mul_ps(db, hi), mb));
            }
        }
    }
}

/* The 16 products d * scale come out of one widening per 8 scales; the 6-bit quants of 32
 * elements are built as signed bytes and parked in q[32], from where each 8 widen with one load. */
PDG_SIMD static void q6_k_avx2(const void *src, float *dst, size_t n) {
    const uint8_t *s = src;
    const __m256i low4 = _mm256_set1_epi8(0x0F), three = _mm256_set1_epi8(3), bias = _mm256_set1_epi8(32);
    const size_t blocks = n / PDG_QK_K;
    for (size_t b = 0; b < blocks; b++) {
        const uint8_t *blk = s + b * PDG_BYTES_Q6_K;
        float *y = dst + b * PDG_QK_K;
        prefetch_ahead(blk, PF_IN_BYTES, 4);   /* 210 bytes span at most 4 lines */
        prefetch_out_k(y, b, blocks);
        const __m256 d = _mm256_set1_ps(_cvtsh_ss(rd16(blk + 208)));
        float ds[16];   /* d * scales[j], one float product each */
        for (int half = 0; half < 2; half++) {
            const __m256i sc = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(blk + 192 + 8 * half)));
            _mm256_storeu_ps(ds + 8 * half, _mm256_mul_ps(d, _mm256_cvtepi32_ps(sc)));
        }
        for (int h = 0; h < 2; h++) {
            const __m256i l0 = _mm256_loadu_si256((const __m256i *)(blk + 64 * h));
            const __m256i l1 = _mm256_loadu_si256((const __m256i *)(blk + 64 * h + 32));
            const __m256i qh = _mm256_loadu_si256((const __m256i *)(blk + 128 + 32 * h));
            const __m256i low[4] = { _mm256_and_si256(l0, low4), _mm256_and_si256(l1, low4),
                                     _mm256_and_si256(_mm256_srli_epi16(l0, 4), low4),
                                     _mm256_and_si256(_mm256_srli_epi16(l1, 4), low4) };
            for (int k = 0; k < 4; k++) {
                const __m256i hi2 = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * k), three);
                int8_t q[32];   /* q in -32..31 */
                _mm256_storeu_si256((__m256i *)q, _mm256_sub_epi8(_mm256_or_si256(low[k], _mm256_slli_epi16(hi2, 4)), bias));
                const __m256 s0 = _mm256_broadcast_ss(ds + 8 * h + 2 * k), s1 = _mm256_broadcast_ss(ds + 8 * h + 2 * k + 1);
                float *yk = y + 128 * h + 32 * k;
                for (int p = 0; p < 4; p++) {
                    const __m256 qf = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(q + 8 * p))));
                    _mm256_storeu_ps(yk + 8 * p, _mm256_mul_ps(p < 2 ? s0 : s1, qf));
                }
            }
        }
    }
}
#endif

/* The choice made once by pdg_dequant_uses_simd (dequant.c) decides for these kernels too. */
void pdg_dequant_q4_k(const void *src, float *dst, size_t n) {
#if PDG_X86
    if (pdg_dequant_uses_simd()) { q4_k_avx2(src, dst, n); return; }
#endif
    pdg_dequant_q4_k_ref(src, dst, n);
}

void pdg_dequant_q5_k(const void *src, float *dst, size_t n) {
#if PDG_X86
    if (pdg_dequant_uses_simd()) { q5_k_avx2(src, dst, n); return; }
#endif
    pdg_dequant_q5_k_ref(src, dst, n);
}

void pdg_dequant_q6_k(const void *src, float *dst, size_t n) {
#if PDG_X86
    if (pdg_dequant_uses_simd()) { q6_k_avx2(src, dst, n); return; }
#endif
    pdg_dequant_q6_k_ref(src, dst, n);
}

/* ------------------------------------------------------------------ quantizer helpers */

/* round half to even through the float's mantissa, valid for |f| <= 4194303 (ggml's nearest_int) */
static inline int nearest_int(float f) {
    const float v = f + 12582912.0f;
    int32_t i;
    memcpy(&i, &v, 4);
    return (i & 0x007FFFFF) - 0x00400000;
}

static inline int clampi(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

/* Affine fit of one sub-block: returns the scale, writes the levels L and -min (make_qkx2_quants). */
static float fit_affine(int n, int nmax, const float *x, const float *w, uint8_t *L, float *neg_min,
                        uint8_t *Laux, float rmin, float rdelta, int nstep, int use_mad) {
    float min = x[0], max = x[0];
    float sum_w = w[0], sum_x = sum_w * x[0];
    for (int i = 1; i < n; i++) {
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
        sum_w += w[i];
        sum_x += w[i] * x[i];
    }
    if (min > 0) min = 0;
    if (max == min) {
        for (int i = 0; i < n; i++) L[i] = 0;
        *neg_min = -min;
        return 0.0f;
    }
    float iscale = (float)nmax / (max - min);
    float scale = 1 / iscale;
    float best_error = 0;
    for (int i = 0; i < n; i++) {
        const int l = clampi(nearest_int(iscale * (x[i] - min)), 0, nmax);
        L[i] = (uint8_t)l;
        float diff = scale * (float)L[i] + min - x[i];
        diff = use_mad ? fabsf(diff) : diff * diff;
        best_error += w[i] * diff;
    }
    for (int is = 0; is <= nstep; is++) {
        iscale = (rmin + rdelta * (float)is + (float)nmax) / (max - min);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; i++) {
            const int l = clampi(nearest_int(iscale * (x[i] - min)), 0, nmax);
            Laux[i] = (uint8_t)l;
            sum_l += w[i] * (float)l;
            sum_l2 += w[i] * (float)l * (float)l;
            sum_xl += w[i] * (float)l * x[i];
        }
        const float D = sum_w * sum_l2 - sum_l * sum_l;
        if (D > 0) {
            float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
            float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
            if (this_min > 0) {
                this_min = 0;
                this_scale = sum_xl / sum_l2;
            }
            float cur_error = 0;
            for (int i = 0; i < n; i++) {
                float diff = this_scale * (float)Laux[i] + this_min - x[i];
                diff = use_mad ? fabsf(diff) : diff * diff;
                cur_error += w[i] * diff;
            }
            if (cur_error < best_error) {
                memcpy(L, Laux, (size_t)n);
                best_error = cur_error;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    *neg_min = -min;
    return scale;
}

/* Symmetric fit with weights x^2 (make_qx_quants, rmse_type 1, no importance weights). L = l + nmax. */
static float fit_symmetric(int n, int nmax, const float *x, int8_t *L) {
    float max = 0, amax = 0;
    for (int i = 0; i < n; i++) {
        const float ax = fabsf(x[i]);
        if (ax > amax) { amax = ax; max = x[i]; }
    }
    if (amax < GROUP_MAX_EPS) {
        for (int i = 0; i < n; i++) L[i] = 0;
        return 0.0f;
    }
    float iscale = -(float)nmax / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; i++) {
        const int l = clampi(nearest_int(iscale * x[i]), -nmax, nmax - 1);
        L[i] = (int8_t)(l + nmax);
        const float w = x[i] * x[i];
        sumlx += w * x[i] * (float)l;
        suml2 += w * (float)l * (float)l;
    }
    float scale = suml2 ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; is++) {
        if (is == 0) continue;
        iscale = -((float)nmax + 0.1f * (float)is) / max;
        sumlx = suml2 = 0;
        for (int i = 0; i < n; i++) {
            const int l = clampi(nearest_int(iscale * x[i]), -nmax, nmax - 1);
            const float w = x[i] * x[i];
            sumlx += w * x[i] * (float)l;
            suml2 += w * (float)l * (float)l;
        }
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; i++) L[i] = (int8_t)(nmax + clampi(nearest_int(iscale * x[i]), -nmax, nmax - 1));
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

/* Symmetric fit refined by coordinate descent (make_q3_quants with do_rmse). L = l + nmax. */
static float fit_symmetric_descent(int n, int nmax, const float *x, int8_t *L) {
    float max = 0, amax = 0;
    for (int i = 0; i < n; i++) {
        const float ax = fabsf(x[i]);
        if (ax > amax) { amax = ax; max = x[i]; }
    }
    if (amax < GROUP_MAX_EPS) {
        for (int i = 0; i < n; i++) L[i] = 0;
        return 0.0f;
    }
    const float iscale = -(float)nmax / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; i++) {
        const int l = clampi(nearest_int(iscale * x[i]), -nmax, nmax - 1);
        L[i] = (int8_t)l;
        const float w = x[i] * x[i];
        sumlx += w * x[i] * (float)l;
        suml2 += w * (float)l * (float)l;
    }
    for (int pass = 0; pass < 5; pass++) {
        int changed = 0;
        for (int i = 0; i < n; i++) {
            const float w = x[i] * x[i];
            float slx = sumlx - w * x[i] * (float)L[i];
            if (slx > 0) {
                float sl2 = suml2 - w * (float)L[i] * (float)L[i];
                const int new_l = clampi(nearest_int(x[i] * sl2 / slx), -nmax, nmax - 1);
                if (new_l != L[i]) {
                    slx += w * x[i] * (float)new_l;
                    sl2 += w * (float)new_l * (float)new_l;
                    if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
                        L[i] = (int8_t)new_l;
                        sumlx = slx;
                        suml2 = sl2;
                        changed++;
                    }
                }
            }
        }
        if (!changed) break;
    }
    for (int i = 0; i < n; i++) L[i] = (int8_t)(L[i] + nmax);
    return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

/* ------------------------------------------------------------------ reference quantizers */

void pdg_quantize_q2_k_ref(const float *src, void *dst, size_t n) {
    uint8_t *out = dst;
    for (size_t b = 0; b < n / PDG_QK_K; b++) {
        const float *x = src + b * PDG_QK_K;
        uint8_t *blk = out + b * PDG_BYTES_Q2_K;
        uint8_t L[PDG_QK_K], Laux[16], *scales = blk, *qs = blk + 16;
        float w[16], mins[16], sc[16], max_scale = 0, max_min = 0;
        for (int j = 0; j < 16; j++) {
            for (int l = 0; l < 16; l++) w[l] = fabsf(x[16 * j + l]);
            sc[j] = fit_affine(16, 3, x + 16 * j, w, L + 16 * j, &mins[j], Laux, -0.5f, 0.1f, 15, 1);
            if (sc[j] > max_scale) max_scale = sc[j];
            if (mins[j] > max_min) max_min = mins[j];
        }
        if (max_scale > 0) {
            const float iscale = 15.0f / max_scale;
            for (int j = 0; j < 16; j++) scales[j] = (uint8_t)nearest_int(iscale * sc[j]);
            wr16(blk + 80, pdg_f32_to_fp16(max_scale / 15.0f));
        } else {
            memset(scales, 0, 16);
            wr16(blk + 80, pdg_f32_to_fp16(0.0f));
        }
        if (max_min > 0) {
            const float iscale = 15.0f / max_min;
            for (int j = 0; j < 16; j++) scales[j] |= (uint8_t)(nearest_int(iscale * mins[j]) << 4);
            wr16(blk + 82, pdg_f32_to_fp16(max_min / 15.0f));
        } else {
            wr16(blk + 82, pdg_f32_to_fp16(0.0f));
        }
        const float d_all = h2f(blk + 80), dmin_all = h2f(blk + 82);
        for (int j = 0; j < 16; j++) {
            const float d = d_all * (float)(scales[j] & 0xF);
            if (!d) continue;
            const float dm = dmin_all * (float)(scales[j] >> 4);
            for (int i = 0; i < 16; i++) L[16 * j + i] = (uint8_t)clampi(nearest_int((x[16 * j + i] + dm) / d), 0, 3);
        }
        for (int h = 0; h < 2; h++) {
            for (int l = 0; l < 32; l++) {
                const uint8_t *q = L + 128 * h + l;
                qs[32 * h + l] = (uint8_t)(q[0] | (q[32] << 2) | (q[64] << 4) | (q[96] << 6));
            }
        }
    }
}

void pdg_quantize_q3_k_ref(const float *src, void *dst, size_t n) {
    uint8_t *out = dst;
    for (size_t b = 0; b < n / PDG_QK_K; b++) {
        const float *x = src + b * PDG_QK_K;
        uint8_t *blk = out + b * PDG_BYTES_Q3_K;
        uint8_t *hmask = blk, *qs = blk + 32, *packed = blk + 96;
        int8_t L[PDG_QK_K];
        float sc[16], max_scale = 0, amax = 0;
        for (int j = 0; j < 16; j++) {
            sc[j] = fit_symmetric_descent(16, 4, x + 16 * j, L + 16 * j);
            const float a = fabsf(sc[j]);
            if (a > amax) { amax = a; max_scale = sc[j]; }
        }
        memset(packed, 0, 12);
        if (max_scale) {
            const float iscale = -32.0f / max_scale;
            for (int j = 0; j < 16; j++) {
                int8_t l = (int8_t)nearest_int(iscale * sc[j]);
                l = (int8_t)(clampi(l, -32, 31) + 32);
                if (j < 8) packed[j] = (uint8_t)(l & 0xF);
                else packed[j - 8] |= (uint8_t)((l & 0xF) << 4);
                l >>= 4;
                packed[j % 4 + 8] |= (uint8_t)(l << (2 * (j / 4)));
            }
            wr16(blk + 108, pdg_f32_to_fp16(1 / iscale));
        } else {
            wr16(blk + 108, pdg_f32_to_fp16(0.0f));
        }
        const float d_all = h2f(blk + 108);
        for (int j = 0; j < 16; j++) {
            const int low4 = j < 8 ? packed[j] & 0xF : packed[j - 8] >> 4;
            const int s = (low4 | (((packed[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32;
            const float d = d_all * (float)s;
            if (!d) continue;
            for (int i = 0; i < 16; i++) L[16 * j + i] = (int8_t)(clampi(nearest_int(x[16 * j + i] / d), -4, 3) + 4);
        }
        memset(hmask, 0, 32);
        for (int j = 0; j < PDG_QK_K; j++) {
            if (L[j] > 3) {
                hmask[j % 32] |= (uint8_t)(1 << (j / 32));
                L[j] -= 4;
            }
        }
        for (int h = 0; h < 2; h++) {
            for (int l = 0; l < 32; l++) {
                const int8_t *q = L + 128 * h + l;
                qs[32 * h + l] = (uint8_t)(q[0] | (q[32] << 2) | (q[64] << 4) | (q[96] << 6));
            }
        }
    }
}

/* Q4_K and Q5_K share everything but the level count and the search range. */
static void quantize_qk_affine(const float *src, void *dst, size_t n, int nmax, float rmin, int nstep) {
    const int five = nmax == 31;
    const size_t bytes = five ? PDG_BYTES_Q5_K : PDG_BYTES_Q4_K;
    uint8_t *out = dst;
    for (size_t b = 0; b < n / PDG_QK_K; b++) {
        const float *x = src + b * PDG_QK_K;
        uint8_t *blk = out + b * bytes;
        uint8_t *scales = blk + 4;
        uint8_t L[PDG_QK_K], Laux[32];
        float w[32], mins[8], sc[8], max_scale = 0, max_min = 0;
        for (int j = 0; j < 8; j++) {
            float sum_x2 = 0;
            for (int l = 0; l < 32; l++) sum_x2 += x[32 * j + l] * x[32 * j + l];
            const float av_x = sqrtf(sum_x2 / 32);
            for (int l = 0; l < 32; l++) w[l] = av_x + fabsf(x[32 * j + l]);
            sc[j] = fit_affine(32, nmax, x + 32 * j, w, L + 32 * j, &mins[j], Laux, rmin, 0.1f, nstep, 0);
            if (sc[j] > max_scale) max_scale = sc[j];
            if (mins[j] > max_min) max_min = mins[j];
        }
        const float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
        const float inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;
        for (int j = 0; j < 8; j++) {
            uint8_t ls = (uint8_t)nearest_int(inv_scale * sc[j]);
            uint8_t lm = (uint8_t)nearest_int(inv_min * mins[j]);
            if (ls > 63) ls = 63;
            if (lm > 63) lm = 63;
            if (j < 4) {
                scales[j] = ls;
                scales[j + 4] = lm;
            } else {
                scales[j + 4] = (uint8_t)((ls & 0xF) | ((lm & 0xF) << 4));
                scales[j - 4] |= (uint8_t)((ls >> 4) << 6);
                scales[j] |= (uint8_t)((lm >> 4) << 6);
            }
        }
        wr16(blk, pdg_f32_to_fp16(max_scale / 63.0f));
        wr16(blk + 2, pdg_f32_to_fp16(max_min / 63.0f));
        const float d_all = h2f(blk), dmin_all = h2f(blk + 2);
        for (int j = 0; j < 8; j++) {
            uint8_t s, m;
            scale_min_k4(j, scales, &s, &m);
            const float d = d_all * (float)s;
            if (!d) continue;
            const float dm = dmin_all * (float)m;
            for (int i = 0; i < 32; i++) L[32 * j + i] = (uint8_t)clampi(nearest_int((x[32 * j + i] + dm) / d), 0, nmax);
        }
        if (!five) {
            uint8_t *qs = blk + 16;
            for (int c = 0; c < 4; c++)
                for (int l = 0; l < 32; l++) qs[32 * c + l] = (uint8_t)(L[64 * c + l] | (L[64 * c + 32 + l] << 4));
        } else {
            uint8_t *qh = blk + 16, *qs = blk + 48;
            memset(qh, 0, 32);
            for (int c = 0; c < 4; c++) {
                for (int l = 0; l < 32; l++) {
                    int l1 = L[64 * c + l], l2 = L[64 * c + 32 + l];
                    if (l1 > 15) { l1 -= 16; qh[l] |= (uint8_t)(1 << (2 * c)); }
                    if (l2 > 15) { l2 -= 16; qh[l] |= (uint8_t)(2 << (2 * c)); }
                    qs[32 * c + l] = (uint8_t)(l1 | (l2 << 4));
                }
            }
        }
    }
}

void pdg_quantize_q4_k_ref(const float *src, void *dst, size_t n) { quantize_qk_affine(src, dst, n, 15, -1.0f, 20); }
void pdg_quantize_q5_k_ref(const float *src, void *dst, size_t n) { quantize_qk_affine(src, dst, n, 31, -0.5f, 15); }

void pdg_quantize_q6_k_ref(const float *src, void *dst, size_t n) {
    uint8_t *out = dst;
    for (size_t b = 0; b < n / PDG_QK_K; b++) {
        const float *x = src + b * PDG_QK_K;
        uint8_t *blk = out + b * PDG_BYTES_Q6_K;
        uint8_t *ql = blk, *qh = blk + 128;
        int8_t *scales = (int8_t *)(blk + 192);
        int8_t L[PDG_QK_K];
        float sc[16], max_scale = 0, max_abs = 0;
        for (int j = 0; j < 16; j++) {
            sc[j] = fit_symmetric(16, 32, x + 16 * j, L + 16 * j);
            const float a = fabsf(sc[j]);
            if (a > max_abs) { max_abs = a; max_scale = sc[j]; }
        }
        if (max_abs < GROUP_MAX_EPS) {
            memset(blk, 0, PDG_BYTES_Q6_K);
            continue;
        }
        const float iscale = -128.0f / max_scale;
        wr16(blk + 208, pdg_f32_to_fp16(1 / iscale));
        for (int j = 0; j < 16; j++) {
            const int v = nearest_int(iscale * sc[j]);
            scales[j] = (int8_t)(v < 127 ? v : 127);
        }
        const float d_all = h2f(blk + 208);
        for (int j = 0; j < 16; j++) {
            const float d = d_all * (float)scales[j];
            if (!d) continue;
            for (int i = 0; i < 16; i++) L[16 * j + i] = (int8_t)(clampi(nearest_int(x[16 * j + i] / d), -32, 31) + 32);
        }
        for (int h = 0; h < 2; h++) {
            for (int l = 0; l < 32; l++) {
                const int8_t *q = L + 128 * h + l;
                ql[64 * h + l] = (uint8_t)((q[0] & 0xF) | ((q[64] & 0xF) << 4));
                ql[64 * h + 32 + l] = (uint8_t)((q[32] & 0xF) | ((q[96] & 0xF) << 4));
                qh[32 * h + l] = (uint8_t)((q[0] >> 4) | ((q[32] >> 4) << 2) | ((q[64] >> 4) << 4) | ((q[96] >> 4) << 6));
            }
        }
    }
}
