/*
 * Decoders of the ternary types TQ1_0 (base-3 packed trits) and TQ2_0 (2-bit trits), formats.md 3.6.
 */
#include "pdg_dequant_more.h"

#pragma STDC FP_CONTRACT OFF

static inline float h2f(const uint8_t *p) { return pdg_fp16_to_f32((uint16_t)(p[0] | (p[1] << 8))); }

/* trit n (0 = most significant) of a byte holding base-3 digits as a fixed-point fraction of 256 */
static inline int trit(uint8_t byte, int n) {
    static const uint8_t pow3[5] = { 1, 3, 9, 27, 81 };
    const uint8_t shifted = (uint8_t)(byte * pow3[n]);     /* wraps: drops the digits above n */
    return (int)(((uint16_t)shifted * 3) >> 8);
}

void pdg_dequant_tq1_0(const void *src, float *dst, size_t n) {
    const uint8_t *s = src;
    for (size_t b = 0; b < n / PDG_QK_K; b++) {
        const uint8_t *blk = s + b * 54;
        const uint8_t *qs = blk, *qh = blk + 48;
        const float d = h2f(blk + 52);
        float *y = dst + b * PDG_QK_K;
        for (int t = 0; t < 5; t++)                          /* elements 0..159 from qs[0..31] */
            for (int m = 0; m < 32; m++) y[32 * t + m] = (float)(trit(qs[m], t) - 1) * d;
        for (int t = 0; t < 5; t++)                          /* elements 160..239 from qs[32..47] */
            for (int m = 0; m < 16; m++) y[160 + 16 * t + m] = (float)(trit(qs[32 + m], t) - 1) * d;
        for (int t = 0; t < 4; t++)                          /* elements 240..255 from qh[0..3] */
            for (int j = 0; j < 4; j++) y[240 + 4 * t + j] = (float)(trit(qh[j], t) - 1) * d;
    }
}

void pdg_dequant_tq2_0(const void *src, float *dst, size_t n) {
    const uint8_t *s = src;
    for (size_t b = 0; b < n / PDG_QK_K; b++) {
        const uint8_t *blk = s + b * 66;
        const float d = h2f(blk + 64);
        float *y = dst + b * PDG_QK_K;
        for (int c = 0; c < 2; c++)
            for (int l = 0; l < 4; l++)
                for (int m = 0; m < 32; m++) y[128 * c + 32 * l + m] = (float)(((blk[32 * c + m] >> (2 * l)) & 3) - 1) * d;
    }
}
