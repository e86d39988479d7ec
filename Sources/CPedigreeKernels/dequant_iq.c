/*
 * Decoders of the IQ types (formats.md 3.6): grid indices into the generated tables of
 * iq_tables.c, sign masks, and per-group scales. Every value is computed as ggml computes it:
 * the group scale first, then times the grid magnitude, then the sign (an exact negation).
 */
#include "pdg_dequant_more.h"

#include <string.h>

#pragma STDC FP_CONTRACT OFF

static inline uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline float h2f(const uint8_t *p) { return pdg_fp16_to_f32(rd16(p)); }
/* byte j of a grid entry (entries are stored as little-endian integers) */
static inline uint8_t grid8(uint64_t entry, int j) { return (uint8_t)(entry >> (8 * j)); }
static inline float sign_of(uint8_t mask, int j) { return (mask & pdg_kmask_iq2xs[j]) ? -1.0f : 1.0f; }

/* eight values db * grid[j] * sign(j) of one 64-bit grid entry */
static inline void put8(float *y, float db, uint64_t entry, uint8_t signs) {
    for (int j = 0; j < 8; j++) y[j] = db * (float)grid8(entry, j) * sign_of(signs, j);
}

void pdg_dequant_iq2_xxs(const void *src, float *dst, size_t n) {
    const uint8_t *s = src;
    for (size_t b = 0; b < n / PDG_QK_K; b++) {
        const uint8_t *blk = s + b * 66;
        const float d = h2f(blk);
        float *y = dst + b * PDG_QK_K;
        for (int ib = 0; ib < 8; ib++) {
            const uint8_t *q = blk + 2 + 8 * ib;
            const uint32_t a1 = rd32(q + 4);
            const float db = d * (0.5f + (float)(a1 >> 28)) * 0.25f;
            for (int g = 0; g < 4; g++) {
                put8(y + 32 * ib + 8 * g, db, pdg_iq2xxs_grid[q[g]], pdg_ksigns_iq2xs[(a1 >> (7 * g)) & 127]);
            }
        }
    }
}

void pdg_dequant_iq2_xs(const void *src, float *dst, size_t n) {
    const uint8_t *s = src;
    for (size_t b = 0; b < n / PDG_QK_K; b++) {
        const uint8_t *blk = s + b * 74;
        const float d = h2f(blk);
        const uint8_t *scales = blk + 66;
        float *y = dst + b * PDG_QK_K;
        for (int ib = 0; ib < 8; ib++) {
            const float db[2] = { d * (0.5f + (float)(scales[ib] & 0xF)) * 0.25f,
                                  d * (0.5f + (float)(scales[ib] >> 4)) * 0.25f };
            for (int g = 0; g < 4; g++) {
                const uint16_t v = rd16(blk + 2 + 2 * (4 * ib + g));
                put8(y + 32 * ib + 8 * g, db[g / 2], pdg_iq2xs_grid[v & 511], pdg_ksigns_iq2xs[v >> 9]);
            }
        }
    }
}

void pdg_dequant_iq2_s(const void *src, float *dst, size_t n) {
    const uint8_t *s = src;
    for (size_t b = 0; b < n / PDG_QK_K; b++) {
        const uint8_t *blk = s + b * 82;
        const float d = h2f(blk);
        const uint8_t *qs = blk + 2, *signs = blk + 34, *qh = blk + 66, *scales = blk + 74;
        float *y = dst + b * PDG_QK_K;
        for (int ib = 0; ib < 8; ib++) {
            const float db[2] = { d * (0.5f + (float)(scales[ib] & 0xF)) * 0.25f,
                                  d * (0.5f + (float)(scales[ib] >> 4)) * 0.25f };
            for (int g = 0; g < 4; g++) {
                const int idx = qs[4 * ib + g] | ((qh[ib] << (8 - 2 * g)) & 0x300);
                put8(y + 32 * ib + 8 * g, db[g / 2], pdg_iq2s_grid[idx], signs[4 * ib + g]);
            }
        }
    }
}

void pdg_dequant_iq3_xxs(const void *src, float *dst, size_t n) {
    const uint8_t *s = src;
    for (size_t b = 0; b < n / PDG_QK_K; b++) {
        const uint8_t *blk = s + b * 98;
        const float d = h2f(blk);
        const uint8_t *qs = blk + 2, *ss = blk + 66;
        float *y = dst + b * PDG_QK_K;
        for (int ib = 0; ib < 8; ib++) {
            const uint32_t a = rd32(ss + 4 * ib);
            const float db = d * (0.5f + (float)(a >> 28)) * 0.5f;
            for (int g = 0; g < 4; g++) {
                const uint8_t m = pdg_ksigns_iq2xs[(a >> (7 * g)) & 127];
                const uint32_t g1 = pdg_iq3xxs_grid[qs[8 * ib + 2 * g]], g2 = pdg_iq3xxs_grid[qs[8 * ib + 2 * g + 1]];
                float *yg = y + 32 * ib + 8 * g;
                for (int j = 0; j < 4; j++) {
                    yg[j] = db * (float)grid8(g1, j) * sign_of(m, j);
                    yg[j + 4] = db * (float)grid8(g2, j) * sign_of(m, j + 4);
                }
            }
        }
    }
}

void pdg_dequant_iq3_s(const void *src, float *dst, size_t n) {
    const uint8_t *s = src;
    for (size_t b = 0; b < n / PDG_QK_K; b++) {
        const uint8_t *blk = s + b * 110;
        const float d = h2f(blk);
        const uint8_t *qs = blk + 2, *qh = blk + 66, *signs = blk + 74, *scales = blk + 106;
        float *y = dst + b * PDG_QK_K;
        for (int ib = 0; ib < 8; ib++) {
            const int nib = ib % 2 ? scales[ib / 2] >> 4 : scales[ib / 2] & 0xF;
            const float db = d * (float)(1 + 2 * nib);
            const int h = qh[ib];
            for (int g = 0; g < 4; g++) {
                const int idx1 = qs[8 * ib + 2 * g] | ((h << (8 - 2 * g)) & 256);
                const int idx2 = qs[8 * ib + 2 * g + 1] | ((h << (7 - 2 * g)) & 256);
                const uint8_t m = signs[4 * ib + g];
                float *yg = y + 32 * ib + 8 * g;
                for (int j = 0; j < 4; j++) {
                    yg[j] = db * (float)grid8(pdg_iq3s_grid[idx1], j) * sign_of(m, j);
                    yg[j + 4] = db * (float)grid8(pdg_iq3s_grid[idx2], j) * sign_of(m, j + 4);
                }
            }
        }
    }
}

/* eight values dl * (grid[j] + delta) of a signed IQ1 grid entry */
static inline void put8_iq1(float *y, float dl, uint64_t entry, float delta) {
    for (int j = 0; j < 8; j++) y[j] = dl * ((float)(int8_t)grid8(entry, j) + delta);
}

void pdg_dequant_iq1_s(const void *src, float *dst, size_t n) {
    const uint8_t *s = src;
    for (size_t b = 0; b < n / PDG_QK_K; b++) {
        const uint8_t *blk = s + b * 50;
        const float d = h2f(blk);
        const uint8_t *qs = blk + 2;
        float *y = dst + b * PDG_QK_K;
        for (int ib = 0; ib < 8; ib++) {
            const uint16_t h = rd16(blk + 34 + 2 * ib);
            const float dl = d * (float)(2 * ((h >> 12) & 7) + 1);
            const float delta = (h & 0x8000) ? -0.125f : 0.125f;
            for (int g = 0; g < 4; g++) {
                const int idx = qs[4 * ib + g] | (((h >> (3 * g)) & 7) << 8);
                put8_iq1(y + 32 * ib + 8 * g, dl, pdg_iq1s_grid[idx], delta);
            }
        }
    }
}

void pdg_dequant_iq1_m(const void *src, float *dst, size_t n) {
    const uint8_t *s = src;
    for (size_t b = 0; b < n / PDG_QK_K; b++) {
        const uint8_t *blk = s + b * 56;
        const uint8_t *qs = blk, *qh = blk + 32;
        uint16_t sc[4];
        for (int i = 0; i < 4; i++) sc[i] = rd16(blk + 48 + 2 * i);
        const uint16_t dbits = (uint16_t)((sc[0] >> 12) | ((sc[1] >> 8) & 0x00F0) | ((sc[2] >> 4) & 0x0F00) | (sc[3] & 0xF000));
        const float d = pdg_fp16_to_f32(dbits);
        float *y = dst + b * PDG_QK_K;
        for (int ib = 0; ib < 8; ib++) {
            const int shift = 6 * (ib % 2);
            const float dl1 = d * (float)(2 * ((sc[ib / 2] >> shift) & 7) + 1);
            const float dl2 = d * (float)(2 * ((sc[ib / 2] >> (shift + 3)) & 7) + 1);
            const uint8_t q0 = qh[2 * ib], q1 = qh[2 * ib + 1];
            const int idx[4] = { qs[4 * ib] | ((q0 << 8) & 0x700), qs[4 * ib + 1] | ((q0 << 4) & 0x700),
                                 qs[4 * ib + 2] | ((q1 << 8) & 0x700), qs[4 * ib + 3] | ((q1 << 4) & 0x700) };
            const float delta[4] = { (q0 & 0x08) ? -0.125f : 0.125f, (q0 & 0x80) ? -0.125f : 0.125f,
                                     (q1 & 0x08) ? -0.125f : 0.125f, (q1 & 0x80) ? -0.125f : 0.125f };
            for (int g = 0; g < 4; g++) put8_iq1(y + 32 * ib + 8 * g, g < 2 ? dl1 : dl2, pdg_iq1s_grid[idx[g]], delta[g]);
        }
    }
}

void pdg_dequant_iq4_xs(const void *src, float *dst, size_t n) {
    const uint8_t *s = src;
    for (size_t b = 0; b < n / PDG_QK_K; b++) {
        const uint8_t *blk = s + b * 136;
        const float d = h2f(blk);
        const uint16_t scales_h = rd16(blk + 2);
        const uint8_t *scales_l = blk + 4, *qs = blk + 8;
        float *y = dst + b * PDG_QK_K;
        for (int ib = 0; ib < 8; ib++) {
            const int ls = ((scales_l[ib / 2] >> (4 * (ib % 2))) & 0xF) | (((scales_h >> (2 * ib)) & 3) << 4);
            const float dl = d * (float)(ls - 32);
            for (int j = 0; j < 16; j++) {
                const uint8_t q = qs[16 * ib + j];
                y[32 * ib + j] = dl * (float)pdg_kvalues_iq4nl[q & 0xF];
                y[32 * ib + 16 + j] = dl * (float)pdg_kvalues_iq4nl[q >> 4];
            }
        }
    }
}
