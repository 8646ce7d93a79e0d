/* Matrix products for many sampling streams ("lanes") at once, each lane's bits fixed by
 * construction: y[l] = W x[l] for every lane l, reading each weight once per call for up to 8
 * lanes (again from cache for each further 8).
 *
 * Why not BLAS: a BLAS matrix-matrix product gives a row different bits depending on how many rows
 * there are and where the row sits (it picks other kernels and summation orders for other shapes),
 * and a sample must read exactly the same alone or beside other samples. Here every output element
 * is one chain of fused multiply-adds in the same order whatever the call:
 *
 *     acc = +0.0f;  for k = 0 .. K-1:  acc = fma(W[o][k], x[l][k], acc);  y[l][o] = acc
 *
 * The AVX2 path vectorises across OUTPUT elements (8 per register, never across k), keeps each
 * lane's accumulators separate, and only tiles lanes and outputs differently for different lane
 * counts, which moves no element's arithmetic. The plain C path runs the same chains with fmaf(),
 * so both paths give the same bits (tests/test_lanes_kernel.py checks it); the caller still uses one
 * path per process. One thread: on a shared machine an OpenMP split measured ~10x slower (its
 * threads wait for each other whenever one is descheduled).
 *
 * W is packed once (lanes_pack): blocks of 8 output rows, each block stored k-major (8 floats per
 * k), rows padded with zeros to a multiple of 8. Dependency-free: built by engine/native/build.py
 * with -ffp-contract=off so that the compiler fuses or reorders nothing on its own.
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define LANES_X86 1
#endif

#define LANES_EXPORT __attribute__((visibility("default")))
#define BLOCK 8          /* outputs per block (one AVX2 register) */
#define GROUP 8          /* lanes that pass the weights together */
#define SUPER 8          /* blocks whose weights stay in cache while each group of lanes passes */
#define AHEAD 64         /* k steps a multi-lane tile prefetches ahead (2 KB of a block) */

enum { PATH_C = 0, PATH_AVX2_FMA = 1 };

/* packed[b][k][j] = w[b*8 + j][k] (zero where b*8 + j >= rows) */
LANES_EXPORT void lanes_pack(const float *w, int rows, int k, float *packed)
{
    int blocks = (rows + BLOCK - 1) / BLOCK;
    for (int b = 0; b < blocks; b++)
        for (int i = 0; i < k; i++)
            for (int j = 0; j < BLOCK; j++) {
                int row = b * BLOCK + j;
                packed[((size_t)b * k + i) * BLOCK + j] = row < rows ? w[(size_t)row * k + i] : 0.0f;
            }
}

/* ---- the plain C path: the reference order, written out ------------------------------------- */
static void products_c(const float *packed, int blocks, int k, const float *x, int lanes,
                       float *y, int ldy)
{
    for (int b = 0; b < blocks; b++) {
        const float *w = packed + (size_t)b * k * BLOCK;
        for (int l = 0; l < lanes; l++) {
            const float *xl = x + (size_t)l * k;
            float acc[BLOCK] = {0.0f};
            for (int i = 0; i < k; i++)
                for (int j = 0; j < BLOCK; j++)
                    acc[j] = fmaf(w[(size_t)i * BLOCK + j], xl[i], acc[j]);
            for (int j = 0; j < BLOCK; j++)
                y[(size_t)l * ldy + b * BLOCK + j] = acc[j];
        }
    }
}

/* ---- the AVX2 + FMA path ---------------------------------------------------------------------- */
#ifdef LANES_X86
/* One tile: NB blocks of outputs x NL lanes, NB*NL accumulators in registers, k outermost. The
 * tile shape changes only which chains run side by side, never a chain's own order. ``xt`` is the
 * tile's lanes k-major (xt[i*NL + l] = x[l][i]): every broadcast is at a fixed offset from one
 * pointer. Tiles of several lanes compute slower than the memory streams the weights, so they
 * prefetch them (once per 64-byte line, every other k); a lone lane's 8 blocks are 8 streams the
 * hardware prefetches well. */
#define UNROLLED _Pragma("GCC unroll 8")
#define STEP(NB, NL, i)                                                                           \
    UNROLLED for (int l = 0; l < NL; l++) {                                                       \
        __m256 xv = _mm256_broadcast_ss(xt + (size_t)(i) * NL + l);                               \
        UNROLLED for (int b = 0; b < NB; b++)                                                     \
            acc[b][l] = _mm256_fmadd_ps(_mm256_loadu_ps(w + ((size_t)b * k + (i)) * BLOCK), xv,   \
                                        acc[b][l]);                                               \
    }
#define TILE(NB, NL)                                                                              \
    __attribute__((target("avx2,fma"))) static void tile_##NB##_##NL(                             \
        const float *w, int k, const float *xt, float *y, int ldy)                                \
    {                                                                                             \
        __m256 acc[NB][NL];                                                                       \
        UNROLLED for (int b = 0; b < NB; b++)                                                     \
            UNROLLED for (int l = 0; l < NL; l++) acc[b][l] = _mm256_setzero_ps();                \
        int i = 0;                                                                                \
        for (; i + 1 < k; i += 2) {                                                               \
            if (NL > 1)                                                                           \
                UNROLLED for (int b = 0; b < NB; b++)                                             \
                    _mm_prefetch((const char *)(w + ((size_t)b * k + i + AHEAD) * BLOCK),         \
                                 _MM_HINT_T0);                                                    \
            STEP(NB, NL, i)                                                                       \
            STEP(NB, NL, i + 1)                                                                   \
        }                                                                                         \
        if (i < k) {                                                                              \
            STEP(NB, NL, i)                                                                       \
        }                                                                                         \
        UNROLLED for (int b = 0; b < NB; b++)                                                     \
            UNROLLED for (int l = 0; l < NL; l++)                                                 \
                _mm256_storeu_ps(y + (size_t)l * ldy + b * BLOCK, acc[b][l]);                     \
    }

/* Per lane count 1..8, as many output blocks as 16 registers hold (accumulators, the blocks'
 * weights, one broadcast); one block at a time for the blocks left over. */
TILE(8, 1) TILE(4, 2) TILE(3, 3) TILE(2, 4) TILE(2, 5) TILE(2, 6) TILE(1, 7) TILE(1, 8)
TILE(1, 1) TILE(1, 2) TILE(1, 3) TILE(1, 4) TILE(1, 5) TILE(1, 6)

typedef void (*tile_fn)(const float *, int, const float *, float *, int);
static const tile_fn WIDE[GROUP + 1] = {0, tile_8_1, tile_4_2, tile_3_3, tile_2_4, tile_2_5,
                                        tile_2_6, tile_1_7, tile_1_8};
static const int WIDE_BLOCKS[GROUP + 1] = {0, 8, 4, 3, 2, 2, 2, 1, 1};
static const tile_fn NARROW[GROUP + 1] = {0, tile_1_1, tile_1_2, tile_1_3, tile_1_4, tile_1_5,
                                          tile_1_6, tile_1_7, tile_1_8};

static int products_avx2(const float *packed, int blocks, int k, const float *x, int lanes,
                         float *y, int ldy)
{
    int groups = (lanes + GROUP - 1) / GROUP;
    float *xt = malloc(sizeof(float) * (size_t)k * (lanes < GROUP ? lanes : GROUP) * groups);
    if (!xt)
        return -2;
    for (int g = 0; g < groups; g++) {          /* each group of lanes k-major */
        int first = g * GROUP, nl = lanes - first < GROUP ? lanes - first : GROUP;
        for (int i = 0; i < k; i++)
            for (int l = 0; l < nl; l++)
                xt[(size_t)first * k + (size_t)i * nl + l] = x[(size_t)(first + l) * k + i];
    }
    for (int first = 0; first < blocks; first += SUPER) {
        int end = first + SUPER < blocks ? first + SUPER : blocks;
        for (int l = 0; l < lanes; l += GROUP) {
            int nl = lanes - l < GROUP ? lanes - l : GROUP;
            const float *xg = xt + (size_t)l * k;
            float *yl = y + (size_t)l * ldy;
            int b = first;
            for (; b + WIDE_BLOCKS[nl] <= end; b += WIDE_BLOCKS[nl])
                WIDE[nl](packed + (size_t)b * k * BLOCK, k, xg, yl + b * BLOCK, ldy);
            for (; b < end; b++)
                NARROW[nl](packed + (size_t)b * k * BLOCK, k, xg, yl + b * BLOCK, ldy);
        }
    }
    free(xt);
    return 0;
}
#endif

/* The fastest path this CPU runs (AVX2 and FMA, checked once at run time; else the C path). */
LANES_EXPORT int lanes_best_path(void)
{
    static int best = -1;
    if (best < 0) {
        best = PATH_C;
#ifdef LANES_X86
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
            best = PATH_AVX2_FMA;
#endif
    }
    return best;
}

/* y (lanes x ldy, ldy >= padded rows) = x (lanes x k, rows contiguous) times the packed W's
 * transpose; 0 on success, -1 when ``path`` does not run here, -2 when out of memory. */
LANES_EXPORT int lanes_products(int path, const float *packed, int rows, int k, const float *x,
                                int lanes, float *y, int ldy)
{
    int blocks = (rows + BLOCK - 1) / BLOCK;
    if (path == PATH_C) {
        products_c(packed, blocks, k, x, lanes, y, ldy);
        return 0;
    }
#ifdef LANES_X86
    if (path == PATH_AVX2_FMA && lanes_best_path() == PATH_AVX2_FMA) {
        return products_avx2(packed, blocks, k, x, lanes, y, ldy);
    }
#endif
    return -1;
}
