#ifndef PDG_DEQUANT_H
#define PDG_DEQUANT_H
/*
 * Row decoders from stored tensor types to float32, ggml's reference quantizers for Q8_0 and
 * Q4_0, and float32 -> F16 / BF16 row converters (formats.md sections 3.6 and 3.7).
 *
 * Conventions shared by every function here:
 *   - `src` and `dst` need no alignment; all data is little-endian, as in GGUF and safetensors.
 *   - `n` counts elements (not bytes, not blocks). For the block types (Q8_0, Q4_0) `n` must be a
 *     multiple of the block size, 32; the functions do nothing for the remainder otherwise.
 *   - Each fast kernel `pdg_X` has a portable scalar twin `pdg_X_ref` with the same signature. The
 *     twins give bit-identical results (every output is one conversion or one multiply), including
 *     NaN payloads: an F16 signalling NaN is quieted by both, as the F16C instruction does.
 *   - The fast kernels use AVX2/F16C/FMA only when the CPU reports them at run time
 *     (`pdg_dequant_uses_simd`); the binary itself runs on any x86-64 or non-x86 CPU.
 * The other ggml block types and quantizers are declared in pdg_dequant_more.h.
 */
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Block layouts (ggml-common.h). Fields are little-endian; sizes are proven below. ---- */

/** Q8_0: 32 weights, x[j] = d * qs[j]. d is an IEEE binary16; 8.5 bits per weight. */
typedef struct {
    uint16_t d;       /* fp16 scale */
    int8_t qs[32];    /* signed quants, element j = qs[j] */
} pdg_block_q8_0;
_Static_assert(sizeof(pdg_block_q8_0) == sizeof(uint16_t) + 32, "Q8_0 block must be 34 bytes");

/** Q4_0: 32 weights, x[j] = d * ((qs[j] & 0xF) - 8), x[j+16] = d * ((qs[j] >> 4) - 8), j = 0..15.
    The low nibble of byte j is element j, its high nibble element j + 16; 4.5 bits per weight. */
typedef struct {
    uint16_t d;       /* fp16 scale */
    uint8_t qs[16];   /* nibbles */
} pdg_block_q4_0;
_Static_assert(sizeof(pdg_block_q4_0) == sizeof(uint16_t) + 16, "Q4_0 block must be 18 bytes");

/** Elements per block of the legacy types. */
#define PDG_QK 32

/* ---- Scalar conversions: exact, no library calls, identical on every CPU. ---- */

/** IEEE binary16 -> float32, exact (subnormals included). NaNs keep their payload and are quieted. */
float pdg_fp16_to_f32(uint16_t h);
/** float32 -> IEEE binary16, round to nearest, ties to even; overflow gives +-Inf, subnormal
    results are rounded correctly, NaN stays NaN (quieted, top payload bits kept). */
uint16_t pdg_f32_to_fp16(float f);
/** bfloat16 -> float32: the bits shifted up by 16 (exact, NaN payload kept as is). */
float pdg_bf16_to_f32(uint16_t h);
/** float32 -> bfloat16, round to nearest, ties to even; NaN stays NaN (quieted). */
uint16_t pdg_f32_to_bf16(float f);

/* ---- Row decoders to float32. ---- */

/** F32 copy (n floats). */
void pdg_dequant_f32(const void *src, float *dst, size_t n);
/** F64 -> F32 with round to nearest, ties to even (the C cast). */
void pdg_dequant_f64(const void *src, float *dst, size_t n);

void pdg_dequant_f16(const void *src, float *dst, size_t n);
void pdg_dequant_f16_ref(const void *src, float *dst, size_t n);
void pdg_dequant_bf16(const void *src, float *dst, size_t n);
void pdg_dequant_bf16_ref(const void *src, float *dst, size_t n);
void pdg_dequant_q8_0(const void *src, float *dst, size_t n);
void pdg_dequant_q8_0_ref(const void *src, float *dst, size_t n);
void pdg_dequant_q4_0(const void *src, float *dst, size_t n);
void pdg_dequant_q4_0_ref(const void *src, float *dst, size_t n);

/* ---- Row converters from float32 (round to nearest even). `dst` receives n u16 values. ---- */

void pdg_f32_to_f16_row(const float *src, uint16_t *dst, size_t n);
void pdg_f32_to_f16_row_ref(const float *src, uint16_t *dst, size_t n);
void pdg_f32_to_bf16_row(const float *src, uint16_t *dst, size_t n);
void pdg_f32_to_bf16_row_ref(const float *src, uint16_t *dst, size_t n);

/* ---- ggml's reference quantizers (quantize_row_*_ref, formats.md 3.7). n % 32 == 0. ---- */

/** Q8_0: amax = max |x|, d = amax / 127, id = 1/d (0 when d == 0), q = roundf(x * id), d stored as fp16. */
void pdg_quantize_q8_0_ref(const float *src, void *dst, size_t n);
/** Q4_0: max = the signed x of largest |x| (first on ties), d = max / -8, id = 1/d (0 when d == 0),
    q = min(15, (int8)(x * id + 8.5)), d stored as fp16. */
void pdg_quantize_q4_0_ref(const float *src, void *dst, size_t n);

/** 1 when the fast kernels run their AVX2/F16C/FMA paths on this CPU, else 0. */
int pdg_dequant_uses_simd(void);

#ifdef __cplusplus
}
#endif
#endif
