#ifndef PDG_DEQUANT_MORE_H
#define PDG_DEQUANT_MORE_H
/*
 * Row decoders for every other ggml block type, and ggml's reference quantizers for Q4_1, Q5_0,
 * Q5_1 and Q2_K..Q6_K (formats.md sections 3.5 to 3.7). The conventions of pdg_dequant.h hold:
 * `src`/`dst` unaligned little-endian, `n` counts elements and must be a multiple of the type's
 * block size (a partial trailing block is left untouched), fast kernels have `_ref` scalar twins
 * with bit-identical results, and the SIMD choice is the one made by `pdg_dequant_uses_simd`.
 *
 * Every output is computed with the same float operations, in the same order, as ggml's
 * `dequantize_row_*`, so the results are bit-identical to ggml (no multiply-add is fused).
 */
#include "pdg_dequant.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Block geometry of the types below (bytes per block; elements are in the names). ---- */
#define PDG_QK_K 256
#define PDG_BYTES_Q4_1 20
#define PDG_BYTES_Q5_0 22
#define PDG_BYTES_Q5_1 24
#define PDG_BYTES_Q8_1 36
#define PDG_BYTES_Q2_K 84
#define PDG_BYTES_Q3_K 110
#define PDG_BYTES_Q4_K 144
#define PDG_BYTES_Q5_K 176
#define PDG_BYTES_Q6_K 210
#define PDG_BYTES_Q8_K 292

/* ---- Lookup tables (generated from quant-vectors/grids by Scripts/generate-iq-tables.py). ---- */
extern const uint8_t pdg_kmask_iq2xs[8];
extern const uint8_t pdg_ksigns_iq2xs[128];
extern const int8_t pdg_kvalues_iq4nl[16];
extern const int8_t pdg_kvalues_mxfp4[16];
extern const uint64_t pdg_iq2xxs_grid[256];
extern const uint64_t pdg_iq2xs_grid[512];
extern const uint64_t pdg_iq2s_grid[1024];
extern const uint32_t pdg_iq3xxs_grid[256];
extern const uint32_t pdg_iq3s_grid[512];
extern const uint64_t pdg_iq1s_grid[2048];

/* ---- Scale conversions of the FP4 types (exact). ---- */
/** E8M0 exponent halved, 2^(e-128) (MXFP4: the value table holds doubled E2M1 values). */
float pdg_e8m0_half_to_f32(uint8_t e);
/** Unsigned E4M3 (bit 7 ignored; 0 and 0x7F give 0) times 0.5 (NVFP4 sub-block scale). */
float pdg_ue4m3_half_to_f32(uint8_t x);

/* ---- Integer element types (two's complement, converted with the C cast: exact up to 2^24). ---- */
void pdg_dequant_i8(const void *src, float *dst, size_t n);
void pdg_dequant_i16(const void *src, float *dst, size_t n);
void pdg_dequant_i32(const void *src, float *dst, size_t n);
void pdg_dequant_i64(const void *src, float *dst, size_t n);

/* ---- 32-element legacy blocks and their relatives (dequant_legacy.c). ---- */
void pdg_dequant_q4_1(const void *src, float *dst, size_t n);
void pdg_dequant_q5_0(const void *src, float *dst, size_t n);
void pdg_dequant_q5_1(const void *src, float *dst, size_t n);
/** Q8_1 (36-byte blocks: d, s, 32 quants); s is ignored. */
void pdg_dequant_q8_1(const void *src, float *dst, size_t n);
void pdg_dequant_iq4_nl(const void *src, float *dst, size_t n);
void pdg_dequant_mxfp4(const void *src, float *dst, size_t n);
/** NVFP4: 64-element blocks of four 16-element sub-blocks. */
void pdg_dequant_nvfp4(const void *src, float *dst, size_t n);
/** Q1_0: 128-element blocks, one sign bit per element. */
void pdg_dequant_q1_0(const void *src, float *dst, size_t n);
/** Q2_0: 64-element blocks, two bits per element, {-d, 0, d, 2d}. */
void pdg_dequant_q2_0(const void *src, float *dst, size_t n);

/* ---- K-quants, 256-element super-blocks (dequant_kquants.c). ---- */
void pdg_dequant_q2_k(const void *src, float *dst, size_t n);
void pdg_dequant_q3_k(const void *src, float *dst, size_t n);
void pdg_dequant_q4_k(const void *src, float *dst, size_t n);
void pdg_dequant_q4_k_ref(const void *src, float *dst, size_t n);
void pdg_dequant_q5_k(const void *src, float *dst, size_t n);
void pdg_dequant_q5_k_ref(const void *src, float *dst, size_t n);
void pdg_dequant_q6_k(const void *src, float *dst, size_t n);
void pdg_dequant_q6_k_ref(const void *src, float *dst, size_t n);
/** Q8_K: f32 d, 256 int8 quants, 16 int16 block sums (ignored). */
void pdg_dequant_q8_k(const void *src, float *dst, size_t n);

/* ---- IQ types (dequant_iq.c). ---- */
void pdg_dequant_iq2_xxs(const void *src, float *dst, size_t n);
void pdg_dequant_iq2_xs(const void *src, float *dst, size_t n);
void pdg_dequant_iq2_s(const void *src, float *dst, size_t n);
void pdg_dequant_iq3_xxs(const void *src, float *dst, size_t n);
void pdg_dequant_iq3_s(const void *src, float *dst, size_t n);
void pdg_dequant_iq1_s(const void *src, float *dst, size_t n);
void pdg_dequant_iq1_m(const void *src, float *dst, size_t n);
void pdg_dequant_iq4_xs(const void *src, float *dst, size_t n);

/* ---- Ternary types (dequant_ternary.c). ---- */
void pdg_dequant_tq1_0(const void *src, float *dst, size_t n);
void pdg_dequant_tq2_0(const void *src, float *dst, size_t n);

/* ---- ggml's reference quantizers (quantize_row_*_ref, formats.md 3.7.1). `dst` receives
        n / block elements blocks; n must be a multiple of the block size (32 or 256). ---- */
void pdg_quantize_q4_1_ref(const float *src, void *dst, size_t n);
void pdg_quantize_q5_0_ref(const float *src, void *dst, size_t n);
void pdg_quantize_q5_1_ref(const float *src, void *dst, size_t n);
void pdg_quantize_q2_k_ref(const float *src, void *dst, size_t n);
void pdg_quantize_q3_k_ref(const float *src, void *dst, size_t n);
void pdg_quantize_q4_k_ref(const float *src, void *dst, size_t n);
void pdg_quantize_q5_k_ref(const float *src, void *dst, size_t n);
void pdg_quantize_q6_k_ref(const float *src, void *dst, size_t n);

#ifdef __cplusplus
}
#endif
#endif
