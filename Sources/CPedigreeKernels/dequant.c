/*
 * Row decoders, reference quantizers and float converters (see include/pdg_dequant.h).
 *
 * Layout of this file: scalar conversions, the scalar `_ref` kernels (portable C), the AVX2/F16C
 * kernels (compiled with a target attribute, so only they may use those instructions), and last
 * the one place that chooses between the two sets at run time.
 */
#include "pdg_dequant.h"

#include <math.h>
#include <stdatomic.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define PDG_X86 1
#else
#define PDG_X86 0
#endif

/* Every result below is a single rounding of one operation; never fuse a multiply and an add. */
#pragma STDC FP_CONTRACT OFF

static inline uint16_t load_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }

static inline float f32_from_bits(uint32_t bits) { float f; memcpy(&f, &bits, 4); return f; }
static inline uint32_t bits_from_f32(float f) { uint32_t b; memcpy(&b, &f, 4); return b; }

/* ------------------------------------------------------------------ scalar conversions */

float pdg_fp16_to_f32(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1Fu;
    uint32_t mant = h & 0x3FFu;
    if (exp == 0x1F) {                      /* Inf, or NaN quieted with its payload kept */
        return f32_from_bits(sign | 0x7F800000u | (mant << 13) | (mant ? 0x00400000u : 0));
    }
    if (exp != 0) {                         /* normal: rebias 15 -> 127 */
        return f32_from_bits(sign | ((exp + 112u) << 23) | (mant << 13));
    }
    if (mant == 0) return f32_from_bits(sign);
    /* subnormal: mant * 2^-24; normalise so bit 10 is the implicit one */
    uint32_t e = 113;
    while (!(mant & 0x400u)) { mant <<= 1; e--; }
    return f32_from_bits(sign | (e << 23) | ((mant & 0x3FFu) << 13));
}

uint16_t pdg_f32_to_fp16(float f) {
    const uint32_t x = bits_from_f32(f);
    const uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    const uint32_t exp = (x >> 23) & 0xFFu;
    uint32_t mant = x & 0x7FFFFFu;
    if (exp == 0xFF) {                      /* Inf; NaN quieted, top payload bits kept (as F16C) */
        return mant ? (uint16_t)(sign | 0x7E00u | (mant >> 13)) : (uint16_t)(sign | 0x7C00u);
    }
    const int e = (int)exp - 127 + 15;      /* half's biased exponent */
    if (e >= 31) return (uint16_t)(sign | 0x7C00u);
    if (e <= 0) {                           /* half subnormal (or zero): units of 2^-24 */
        if (e < -10) return sign;           /* below 2^-25: rounds to zero */
        mant |= 0x800000u;
        const int shift = 14 - e;           /* 14 ... 24 */
        uint32_t q = mant >> shift;
        const uint32_t rem = mant & ((1u << shift) - 1u);
        const uint32_t halfway = 1u << (shift - 1);
        if (rem > halfway || (rem == halfway && (q & 1u))) q++;
        return (uint16_t)(sign | q);        /* a carry to 0x400 is the smallest normal: correct */
    }
    uint32_t q = ((uint32_t)e << 10) | (mant >> 13);
    const uint32_t rem = mant & 0x1FFFu;
    if (rem > 0x1000u || (rem == 0x1000u && (q & 1u))) q++;   /* a carry into the exponent is correct, up to Inf */
    return (uint16_t)(sign | q);
}

float pdg_bf16_to_f32(uint16_t h) { return f32_from_bits((uint32_t)h << 16); }

uint16_t pdg_f32_to_bf16(float f) {
    uint32_t x = bits_from_f32(f);
    if ((x & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((x >> 16) | 0x0040u);   /* NaN stays NaN */
    x += 0x7FFFu + ((x >> 16) & 1u);        /* round to nearest, ties to even */
    return (uint16_t)(x >> 16);
}

/* ------------------------------------------------------------------ plain copies */

void pdg_dequant_f32(const void *src, float *dst, size_t n) {
    if (n) memcpy(dst, src, n * sizeof(float));
}

void pdg_dequant_f64(const void *src, float *dst, size_t n) {
    const uint8_t *s = src;
    for (size_t i = 0; i < n; i++) {
        double v;
        memcpy(&v, s + 8 * i, 8);
        dst[i] = (float)v;
    }
}

/* ------------------------------------------------------------------ scalar reference kernels */

void pdg_dequant_f16_ref(const void *src, float *dst, size_t n) {
    const uint8_t *s = src;
    for (size_t i = 0; i < n; i++) dst[i] = pdg_fp16_to_f32(load_u16(s + 2 * i));
}

void pdg_dequant_bf16_ref(const void *src, float *dst, size_t n) {
    const uint8_t *s = src;
    for (size_t i = 0; i < n; i++) dst[i] = pdg_bf16_to_f32(load_u16(s + 2 * i));
}

void pdg_dequant_q8_0_ref(const void *src, float *dst, size_t n) {
    const uint8_t *s = src;
    for (size_t b = 0; b < n / PDG_QK; b++) {
        const uint8_t *blk = s + b * sizeof(pdg_block_q8_0);
        const float d = pdg_fp16_to_f32(load_u16(blk));
        const int8_t *qs = (const int8_t *)(blk + 2);
        float *y = dst + b * PDG_QK;
        for (int j = 0; j < PDG_QK; j++) y[j] = (float)qs[j] * d;
    }
}

void pdg_dequant_q4_0_ref(const void *src, float *dst, size_t n) {
    const uint8_t *s = src;
    for (size_t b = 0; b < n / PDG_QK; b++) {
        const uint8_t *blk = s + b * sizeof(pdg_block_q4_0);
        const float d = pdg_fp16_to_f32(load_u16(blk));
        const uint8_t *qs = blk + 2;
        float *y = dst + b * PDG_QK;
        for (int j = 0; j < PDG_QK / 2; j++) {
            y[j] = (float)((int)(qs[j] & 0x0F) - 8) * d;
            y[j + PDG_QK / 2] = (float)((int)(qs[j] >> 4) - 8) * d;
        }
    }
}

void pdg_f32_to_f16_row_ref(const float *src, uint16_t *dst, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = pdg_f32_to_fp16(src[i]);
}

void pdg_f32_to_bf16_row_ref(const float *src, uint16_t *dst, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = pdg_f32_to_bf16(src[i]);
}

/* ------------------------------------------------------------------ reference quantizers */

void pdg_quantize_q8_0_ref(const float *src, void *dst, size_t n) {
    uint8_t *out = dst;
    for (size_t b = 0; b < n / PDG_QK; b++) {
        const float *x = src + b * PDG_QK;
        float amax = 0.0f;
        for (int j = 0; j < PDG_QK; j++) {
            const float a = fabsf(x[j]);
            amax = amax > a ? amax : a;
        }
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        pdg_block_q8_0 blk;
        blk.d = pdg_f32_to_fp16(d);
        for (int j = 0; j < PDG_QK; j++) blk.qs[j] = (int8_t)roundf(x[j] * id);
        memcpy(out + b * sizeof blk, &blk, sizeof blk);
    }
}

void pdg_quantize_q4_0_ref(const float *src, void *dst, size_t n) {
    uint8_t *out = dst;
    for (size_t b = 0; b < n / PDG_QK; b++) {
        const float *x = src + b * PDG_QK;
        float amax = 0.0f, max = 0.0f;      /* max keeps its sign; the first of equal |x| wins */
        for (int j = 0; j < PDG_QK; j++) {
            if (amax < fabsf(x[j])) { amax = fabsf(x[j]); max = x[j]; }
        }
        const float d = max / -8.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        pdg_block_q4_0 blk;
        blk.d = pdg_f32_to_fp16(d);
        for (int j = 0; j < PDG_QK / 2; j++) {
            const int8_t lo = (int8_t)(x[j] * id + 8.5f);            /* truncation toward zero */
            const int8_t hi = (int8_t)(x[j + PDG_QK / 2] * id + 8.5f);
            const uint8_t q0 = (uint8_t)(lo < 15 ? lo : 15);
            const uint8_t q1 = (uint8_t)(hi < 15 ? hi : 15);
            blk.qs[j] = (uint8_t)(q0 | (q1 << 4));
        }
        memcpy(out + b * sizeof blk, &blk, sizeof blk);
    }
}

/* ------------------------------------------------------------------ AVX2 / F16C kernels */

#if PDG_X86
#define PDG_SIMD __attribute__((target("avx2,f16c,fma")))

PDG_SIMD static void f16_avx2(const void *src, float *dst, size_t n) {
    const uint8_t *s = src;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(s + 2 * i))));
    }
    pdg_dequant_f16_ref(s + 2 * i, dst + i, n - i);
}

PDG_SIMD static void bf16_avx2(const void *src, float *dst, size_t n) {
    const uint8_t *s = src;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(s + 2 * i)));
        _mm256_storeu_si256((__m256i *)(dst + i), _mm256_slli_epi32(w, 16));
    }
    pdg_dequant_bf16_ref(s + 2 * i, dst + i, n - i);
}

/*
 * Q8_0 and Q4_0 write 128 bytes of floats per 32-value block. With the output in L2 the stores
 * bound them, and software prefetches keep that bound in reach: the input a couple of KiB ahead,
 * the output lines PF_OUT_BLOCKS blocks (4 KiB) ahead, never past the end of dst.
 */
#define PF_IN_BYTES 2176
#define PF_OUT_BLOCKS 32

PDG_SIMD static inline void prefetch_block(const uint8_t *blk, float *y, size_t b, size_t blocks) {
    /* a prefetch never faults, even past the end of src; blocks are less than a line apart, so
     * one prefetch per block reaches every input line */
    _mm_prefetch((const char *)((uintptr_t)blk + PF_IN_BYTES), _MM_HINT_T0);
    if (b + PF_OUT_BLOCKS < blocks) {
        const uintptr_t out = (uintptr_t)(y + PF_OUT_BLOCKS * PDG_QK);
        _mm_prefetch((const char *)out, _MM_HINT_T0);
        _mm_prefetch((const char *)(out + 64), _MM_HINT_T0);
    }
}

PDG_SIMD static void q8_0_avx2(const void *src, float *dst, size_t n) {
    const uint8_t *s = src;
    const size_t blocks = n / PDG_QK;
    for (size_t b = 0; b < blocks; b++) {
        const uint8_t *blk = s + b * sizeof(pdg_block_q8_0);
        float *y = dst + b * PDG_QK;
        prefetch_block(blk, y, b, blocks);
        const __m256 d = _mm256_set1_ps(_cvtsh_ss(load_u16(blk)));
        for (int k = 0; k < 4; k++) {
            const __m256i q = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(blk + 2 + 8 * k)));
            _mm256_storeu_ps(y + 8 * k, _mm256_mul_ps(_mm256_cvtepi32_ps(q), d));
        }
    }
}

PDG_SIMD static void q4_0_avx2(const void *src, float *dst, size_t n) {
    const uint8_t *s = src;
    const __m128i low4 = _mm_set1_epi8(0x0F);
    const __m256i eight = _mm256_set1_epi32(8);
    const size_t blocks = n / PDG_QK;
    for (size_t b = 0; b < blocks; b++) {
        const uint8_t *blk = s + b * sizeof(pdg_block_q4_0);
        prefetch_block(blk, dst + b * PDG_QK, b, blocks);
        const __m256 d = _mm256_set1_ps(_cvtsh_ss(load_u16(blk)));
        const __m128i v = _mm_loadu_si128((const __m128i *)(blk + 2));
        const __m128i lo = _mm_and_si128(v, low4);                    /* elements 0..15 */
        const __m128i hi = _mm_and_si128(_mm_srli_epi16(v, 4), low4); /* elements 16..31 */
        const __m128i parts[4] = { lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8) };
        float *y = dst + b * PDG_QK;
        for (int k = 0; k < 4; k++) {
            const __m256i q = _mm256_sub_epi32(_mm256_cvtepu8_epi32(parts[k]), eight);
            _mm256_storeu_ps(y + 8 * k, _mm256_mul_ps(_mm256_cvtepi32_ps(q), d));
        }
    }
}

PDG_SIMD static void to_f16_avx2(const float *src, uint16_t *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm_storeu_si128((__m128i *)(dst + i), h);
    }
    pdg_f32_to_f16_row_ref(src + i, dst + i, n - i);
}

PDG_SIMD static void to_bf16_avx2(const float *src, uint16_t *dst, size_t n) {
    const __m256i bias = _mm256_set1_epi32(0x7FFF);
    const __m256i one = _mm256_set1_epi32(1);
    const __m256i abs_mask = _mm256_set1_epi32(0x7FFFFFFF);
    const __m256i inf = _mm256_set1_epi32(0x7F800000);
    const __m256i quiet = _mm256_set1_epi32(0x00400000);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256i x = _mm256_loadu_si256((const __m256i *)(src + i));
        const __m256i is_nan = _mm256_cmpgt_epi32(_mm256_and_si256(x, abs_mask), inf);
        const __m256i odd = _mm256_and_si256(_mm256_srli_epi32(x, 16), one);
        const __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(x, _mm256_add_epi32(bias, odd)), 16);
        const __m256i nan = _mm256_srli_epi32(_mm256_or_si256(x, quiet), 16);
        const __m256i r = _mm256_blendv_epi8(rounded, nan, is_nan);
        /* pack 8 u32 (each <= 0xFFFF) to u16; packus works per 128-bit lane, so reorder after */
        const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(r, r), 0x08);
        _mm_storeu_si128((__m128i *)(dst + i), _mm256_castsi256_si128(packed));
    }
    pdg_f32_to_bf16_row_ref(src + i, dst + i, n - i);
}
#endif

/* ------------------------------------------------------------------ the one run-time choice */

typedef void (*pdg_row_fn)(const void *, float *, size_t);
typedef void (*pdg_conv_fn)(const float *, uint16_t *, size_t);

typedef struct {
    pdg_row_fn f16, bf16, q8_0, q4_0;
    pdg_conv_fn to_f16, to_bf16;
    int simd;
} pdg_kernel_set;

static const pdg_kernel_set ref_set = {
    pdg_dequant_f16_ref, pdg_dequant_bf16_ref, pdg_dequant_q8_0_ref, pdg_dequant_q4_0_ref,
    pdg_f32_to_f16_row_ref, pdg_f32_to_bf16_row_ref, 0,
};

#if PDG_X86
static const pdg_kernel_set simd_set = {
    f16_avx2, bf16_avx2, q8_0_avx2, q4_0_avx2, to_f16_avx2, to_bf16_avx2, 1,
};
#endif

/* Picks the kernel set once per process: the AVX2/F16C/FMA set when the CPU has all three. */
static const pdg_kernel_set *kernels(void) {
    static _Atomic(const pdg_kernel_set *) chosen = NULL;
    const pdg_kernel_set *set = atomic_load_explicit(&chosen, memory_order_acquire);
    if (set) return set;
    set = &ref_set;
#if PDG_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c") && __builtin_cpu_supports("fma")) set = &simd_set;
#endif
    atomic_store_explicit(&chosen, set, memory_order_release);
    return set;
}

int pdg_dequant_uses_simd(void) { return kernels()->simd; }

void pdg_dequant_f16(const void *src, float *dst, size_t n) { kernels()->f16(src, dst, n); }
void pdg_dequant_bf16(const void *src, float *dst, size_t n) { kernels()->bf16(src, dst, n); }
void pdg_dequant_q8_0(const void *src, float *dst, size_t n) { kernels()->q8_0(src, dst, n); }
void pdg_dequant_q4_0(const void *src, float *dst, size_t n) { kernels()->q4_0(src, dst, n); }
void pdg_f32_to_f16_row(const float *src, uint16_t *dst, size_t n) { kernels()->to_f16(src, dst, n); }
void pdg_f32_to_bf16_row(const float *src, uint16_t *dst, size_t n) { kernels()->to_bf16(src, dst, n); }
