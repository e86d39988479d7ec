#ifndef PDG_MEASURES_H
#define PDG_MEASURES_H
#include <stddef.h>
#include <stdint.h>

/* Running sums of one tensor pair, folded block by block (design.md: "Data flow of compare").
 * Pairs where either value is not finite are left out of the sums and counted instead. */
typedef struct {
    double dot;         /* sum a*b */
    double sumA, sumB;  /* sum a, sum b */
    double sumA2, sumB2;/* sum a^2, sum b^2 */
    double sumDiff2;    /* sum (a-b)^2 */
    double maxAbsDiff;  /* max |a-b| */
    int64_t count;      /* finite pairs folded */
    int64_t nonFinite;  /* pairs with a NaN or infinity on either side */
    int64_t unequal;    /* pairs whose float32 values differ (NaN equals NaN) */
} pdg_pair_sums;

/* Folds n pairs into s. Chooses an AVX2/FMA path when the CPU has it, else the scalar reference. */
void pdg_pair_accumulate(const float *a, const float *b, size_t n, pdg_pair_sums *s);
/* The scalar reference twin (same result up to summation order within a block). */
void pdg_pair_accumulate_ref(const float *a, const float *b, size_t n, pdg_pair_sums *s);

/* Narrow float formats, as in the rounding checks below. */
enum { PDG_FORMAT_F32 = 0, PDG_FORMAT_F16 = 1, PDG_FORMAT_BF16 = 2 };

/* Folds n pairs stored as `formatA` / `formatB` values (little-endian, any alignment) into s,
   without a decoded copy: the same sums as decoding both sides to float32 and calling
   pdg_pair_accumulate on them. */
void pdg_pair_accumulate_encoded(const void *a, int formatA, const void *b, int formatB, size_t n, pdg_pair_sums *s);
/* The scalar reference twin: decodes with the scalar-exact decoders, then pdg_pair_accumulate_ref. */
void pdg_pair_accumulate_encoded_ref(const void *a, int formatA, const void *b, int formatB, size_t n, pdg_pair_sums *s);

/* Rounds x to `format` (round to nearest even, subnormals kept, NaN stays NaN) and back to float. */
float pdg_round_to_format(float x, int format);

/* For n pairs (wide[i], narrow[i]): counts where round(wide[i], format) differs from narrow[i]
 * (bitwise, any NaN equal to any NaN) into *mismatches, and where wide[i] is not exactly
 * representable in `format` into *inexact. */
void pdg_rounding_check(const float *wide, const float *narrow, size_t n, int format,
                        int64_t *mismatches, int64_t *inexact);
/* The scalar reference twin of pdg_rounding_check. */
void pdg_rounding_check_ref(const float *wide, const float *narrow, size_t n, int format,
                            int64_t *mismatches, int64_t *inexact);
/* m[i*d + j] = sum_t a[i*k + t] * b[j*k + t] for two d × k row-major samples: the matrix of the
 * permutation statistic, computed without BLAS so its speed does not depend on the BLAS kernels
 * the library picked for this CPU. The reference twin sums in double. */
void pdg_gram_ab(const float *a, const float *b, size_t d, size_t k, float *m);
void pdg_gram_ab_ref(const float *a, const float *b, size_t d, size_t k, float *m);

/* g = a·aᵀ in double for the row-major rows × k matrix a (g is rows × rows, both triangles filled):
   the Gram matrix whose eigenvalues are the squared singular values of a. Products and sums in
   double, so its eigenvalues carry float32 singular values far below sqrt(eps) of the largest. */
void pdg_gram_self_f64(const float *a, size_t rows, size_t k, double *g);
void pdg_gram_self_f64_ref(const float *a, size_t rows, size_t k, double *g);
#endif
