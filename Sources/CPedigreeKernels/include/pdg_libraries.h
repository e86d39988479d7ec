#ifndef PDG_LIBRARIES_H
#define PDG_LIBRARIES_H
/* The system libraries Pedigree links: OpenBLAS (CBLAS), LAPACKE and zstd (Debian's -dev packages). */
#include <cblas.h>
#include <lapacke.h>
#include <zstd.h>

/* OpenBLAS extras (not in netlib's libblas). */
void openblas_set_num_threads(int num_threads);
char *openblas_get_corename(void);

/* glibc's allocator settings (mallopt, M_MMAP_THRESHOLD, M_TRIM_THRESHOLD). */
#include <malloc.h>
#endif
