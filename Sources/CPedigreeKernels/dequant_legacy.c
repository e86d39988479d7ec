/*
 * Decoders of the 32-element legacy blocks (Q4_1, Q5_0, Q5_1, Q8_1), their non-linear and FP4
 * relatives (IQ4_NL, MXFP4, NVFP4), the newest small types (Q1_0, Q2_0), the integer element
 * types, and the reference quantizers of Q4_1, Q5_0 and Q5_1 (formats.md 3.6, 3.7).
 */
#include "pdg_dequant_more.h"

#include <float.h>
#include <math.h>
#include <string.h>

#pragma STDC FP_CONTRACT OFF

static inline uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline float h2f(const uint8_t *p) { return pdg_fp16_to_f32(rd16(p)); }
static inline void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void wr32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }

/* ------------------------------------------------------------------ scale conversions */

float pdg_e8m0_half_to_f32(uint8_t e) {
    const uint32_t bits = e < 2 ? (0x00200000u << e) : ((uint32_t)(e - 1) << 23);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

float pdg_ue4m3_half_to_f32(uint8_t x) {
    if (x == 0 || x == 0x7F) return 0.0f;
    const int exp = (x >> 3) & 0xF, man = x & 7;
    /* both branches are exact: a 4-bit significand times a power of two */
    const float raw = exp == 0 ? ldexpf((float)man, -9) : ldexpf(1.0f + (float)man / 8.0f, exp - 7);
    return raw * 0.5f;
}

/* ------------------------------------------------------------------ integer element types */

void pdg_dequant_i8(const void *src, float *dst, size_t n) {
    const int8_t *s = src;
    for (size_t i = 0; i < n; i++) dst[i] = (float)s[i];
}

void pdg_dequant_i16(const void *src, float *dst, size_t n) {
    const uint8_t *s = src;
    for (size_t i = 0; i < n; i++) dst[i] = (float)(int16_t)rd16(s + 2 * i);
}

void pdg_dequant_i32(const void *src, float *dst, size_t n) {
    const uint8_t *s = src;
    for (size_t i = 0; i < n; i++) dst[i] = (float)(int32_t)rd32(s + 4 * i);
}

void pdg_dequant_i64(const void *src, float *dst, size_t n) {
    const uint8_t *s = src;
    for (size_t i = 0; i < n; i++) {
        const uint64_t v = (uint64_t)rd32(s + 8 * i) | ((uint64_t)rd32(s + 8 * i + 4) << 32);
        dst[i] = (float)(int64_t)v;
    }
}

/* ------------------------------------------------------------------ legacy blocks */

void pdg_dequant_q4_1(const void *src, float *dst, size_t n) {
    const uint8_t *s = src;
    for (size_t b = 0; b < n / PDG_QK; b++) {
        const uint8_t *blk = s + b * PDG_BYTES_Q4_1;
        const float d = h2f(blk), m = h2f(blk + 2);
        const uint8_t *qs = blk + 4;
        float *y = dst + b * PDG_QK;
        for (int j = 0; j < 16; j++) {
            y[j] = (float)(qs[j] & 0xF) * d + m;
            y[j + 16] = (float)(qs[j] >> 4) * d + m;
        }
    }
}

void pdg_dequant_q5_0(const void *src, float *dst, size_t n) {
    const uint8_t *s = src;
    for (size_t b = 0; b < n / PDG_QK; b++) {
        const uint8_t *blk = s + b * PDG_BYTES_Q5_0;
        const float d = h2f(blk);
        const uint32_t qh = rd32(blk + 2);
        const uint8_t *qs = blk + 6;
        float *y = dst + b * PDG_QK;
        for (int j = 0; j < 16; j++) {
            const int lo = (qs[j] & 0xF) | (int)(((qh >> j) & 1u) << 4);
            const int hi = (qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1u) << 4);
            y[j] = (float)(lo - 16) * d;
            y[j + 16] = (float)(hi - 16) * d;
        }
    }
}

void pdg_dequant_q5_1(const void *src, float *dst, size_t n) {
    const uint8_t *s = src;
    for (size_t b = 0; b < n / PDG_QK; b++) {
        const uint8_t *blk = s + b * PDG_BYTES_Q5_1;
        const float d = h2f(blk), m = h2f(blk + 2);
        const uint32_t qh = rd32(blk + 4);
        const uint8_t *qs = blk + 8;
        float *y = dst + b * PDG_QK;
        for (int j = 0; j < 16; j++) {
            const int lo = (qs[j] & 0xF) | (int)(((qh >> j) & 1u) << 4);
            const int hi = (qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1u) << 4);
            y[j] = (float)lo * d + m;
            y[j + 16] = (float)hi * d + m;
        }
    }
}

void pdg_dequant_q8_1(const void *src, float *dst, size_t n) {
    const uint8_t *s = src;
    for (size_t b = 0; b < n / PDG_QK; b++) {
        const uint8_t *blk = s + b * PDG_BYTES_Q8_1;
        const float d = h2f(blk);
        const int8_t *qs = (const int8_t *)(blk + 4);
        float *y = dst + b * PDG_QK;
        for (int j = 0; j < PDG_QK; j++) y[j] = (float)qs[j] * d;
    }
}

void pdg_dequant_iq4_nl(const void *src, float *dst, size_t n) {
    const uint8_t *s = src;
    for (size_t b = 0; b < n / PDG_QK; b++) {
        const uint8_t *blk = s + b * 18;
        const float d = h2f(blk);
        const uint8_t *qs = blk + 2;
        float *y = dst + b * PDG_QK;
        for (int j = 0; j < 16; j++) {
            y[j] = d * (float)pdg_kvalues_iq4nl[qs[j] & 0xF];
            y[j + 16] = d * (float)pdg_kvalues_iq4nl[qs[j] >> 4];
        }
    }
}

void pdg_dequant_mxfp4(const void *src, float *dst, size_t n) {
    const uint8_t *s = src;
    for (size_t b = 0; b < n / PDG_QK; b++) {
        const uint8_t *blk = s + b * 17;
        const float d = pdg_e8m0_half_to_f32(blk[0]);
        const uint8_t *qs = blk + 1;
        float *y = dst + b * PDG_QK;
        for (int j = 0; j < 16; j++) {
            y[j] = (float)pdg_kvalues_mxfp4[qs[j] & 0xF] * d;
            y[j + 16] = (float)pdg_kvalues_mxfp4[qs[j] >> 4] * d;
        }
    }
}

void pdg_dequant_nvfp4(const void *src, float *dst, size_t n) {
    const uint8_t *s = src;
    for (size_t b = 0; b < n / 64; b++) {
        const uint8_t *blk = s + b * 36;
        for (int sub = 0; sub < 4; sub++) {
            const float d = pdg_ue4m3_half_to_f32(blk[sub]);
            const uint8_t *qs = blk + 4 + 8 * sub;
            float *y = dst + b * 64 + 16 * sub;
            for (int j = 0; j < 8; j++) {
                y[j] = (float)pdg_kvalues_mxfp4[qs[j] & 0xF] * d;
                y[j + 8] = (float)pdg_kvalues_mxfp4[qs[j] >> 4] * d;
            }
        }
    }
}

void pdg_dequant_q1_0(const void *src, float *dst, size_t n) {
    const uint8_t *s = src;
    for (size_t b = 0; b < n / 128; b++) {
        const uint8_t *blk = s + b * 18;
        const float d = h2f(blk), neg = -d;
        const uint8_t *qs = blk + 2;
        float *y = dst + b * 128;
        for (int j = 0; j < 128; j++) y[j] = ((qs[j / 8] >> (j % 8)) & 1) ? d : neg;
    }
}

void pdg_dequant_q2_0(const void *src, float *dst, size_t n) {
    const uint8_t *s = src;
    for (size_t b = 0; b < n / 64; b++) {
        const uint8_t *blk = s + b * 18;
        const float d = h2f(blk);
        const uint8_t *qs = blk + 2;
        float *y = dst + b * 64;
        for (int j = 0; j < 64; j++) y[j] = (float)((int)((qs[j / 4] >> (2 * (j % 4))) & 3) - 1) * d;
    }
}

/* ------------------------------------------------------------------ reference quantizers */

/* min and max of one block, scanned in order (strict comparisons, as ggml) */
static void block_min_max(const float *x, float *min_out, float *max_out) {
    float min = FLT_MAX, max = -FLT_MAX;
    for (int j = 0; j < PDG_QK; j++) {
        if (x[j] < min) min = x[j];
        if (x[j] > max) max = x[j];
    }
    *min_out = min;
    *max_out = max;
}

void pdg_quantize_q4_1_ref(const float *src, void *dst, size_t n) {
    uint8_t *out = dst;
    for (size_t b = 0; b < n / PDG_QK; b++) {
        const float *x = src + b * PDG_QK;
        uint8_t *blk = out + b * PDG_BYTES_Q4_1;
        float min, max;
        block_min_max(x, &min, &max);
        const float d = (max - min) / 15.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        wr16(blk, pdg_f32_to_fp16(d));
        wr16(blk + 2, pdg_f32_to_fp16(min));
        for (int j = 0; j < 16; j++) {
            const int8_t lo = (int8_t)((x[j] - min) * id + 0.5f);
            const int8_t hi = (int8_t)((x[j + 16] - min) * id + 0.5f);
            const uint8_t q0 = (uint8_t)(lo < 15 ? lo : 15), q1 = (uint8_t)(hi < 15 ? hi : 15);
            blk[4 + j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

void pdg_quantize_q5_0_ref(const float *src, void *dst, size_t n) {
    uint8_t *out = dst;
    for (size_t b = 0; b < n / PDG_QK; b++) {
        const float *x = src + b * PDG_QK;
        uint8_t *blk = out + b * PDG_BYTES_Q5_0;
        float amax = 0.0f, max = 0.0f;      /* max keeps its sign; the first of equal |x| wins */
        for (int j = 0; j < PDG_QK; j++) {
            if (amax < fabsf(x[j])) { amax = fabsf(x[j]); max = x[j]; }
        }
        const float d = max / -16.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        wr16(blk, pdg_f32_to_fp16(d));
        uint32_t qh = 0;
        for (int j = 0; j < 16; j++) {
            const int8_t lo = (int8_t)(x[j] * id + 16.5f);
            const int8_t hi = (int8_t)(x[j + 16] * id + 16.5f);
            const uint8_t q0 = (uint8_t)(lo < 31 ? lo : 31), q1 = (uint8_t)(hi < 31 ? hi : 31);
            blk[6 + j] = (uint8_t)((q0 & 0xF) | ((q1 & 0xF) << 4));
            qh |= (uint32_t)((q0 >> 4) & 1) << j;
            qh |= (uint32_t)((q1 >> 4) & 1) << (j + 16);
        }
        wr32(blk + 2, qh);
    }
}

void pdg_quantize_q5_1_ref(const float *src, void *dst, size_t n) {
    uint8_t *out = dst;
    for (size_t b = 0; b < n / PDG_QK; b++) {
        const float *x = src + b * PDG_QK;
        uint8_t *blk = out + b * PDG_BYTES_Q5_1;
        float min, max;
        block_min_max(x, &min, &max);
        const float d = (max - min) / 31.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        wr16(blk, pdg_f32_to_fp16(d));
        wr16(blk + 2, pdg_f32_to_fp16(min));
        uint32_t qh = 0;
        for (int j = 0; j < 16; j++) {
            const uint8_t q0 = (uint8_t)((x[j] - min) * id + 0.5f);      /* no clamp, as ggml */
            const uint8_t q1 = (uint8_t)((x[j + 16] - min) * id + 0.5f);
            blk[8 + j] = (uint8_t)((q0 & 0xF) | ((q1 & 0xF) << 4));
            qh |= (uint32_t)((q0 >> 4) & 1) << j;
            qh |= (uint32_t)((q1 >> 4) & 1) << (j + 16);
        }
        wr32(blk + 4, qh);
    }
}
