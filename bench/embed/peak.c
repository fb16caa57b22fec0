/*
 * peak.c -- measures the machine's FP32 FMA peak, the denominator of the
 * "share of peak" figures in bench/README.md.
 *
 * Usage: peak THREADS
 *
 * Each thread runs twelve independent chains of vector FMAs (enough to
 * cover the FMA latency on every current x86-64 core), on 512-bit vectors
 * when the CPU has AVX-512F, else 256-bit AVX2+FMA.  Nothing is loaded or
 * stored in the loop, so this is the arithmetic ceiling that no GEMM can
 * pass.  A clock that boosts under a one-core load and less under two is
 * included in the figures, which is why it runs at the benchmark's thread
 * count.
 */
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ITERS 200000000L

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

#define CHAINS(T, SET1, FMA, ADD, REDUCE, W)                                                      \
    T x = SET1(1.0000001f), y = SET1(0.9999999f);                                                 \
    T a0 = SET1(0), a1 = SET1(1), a2 = SET1(2), a3 = SET1(3), a4 = SET1(4), a5 = SET1(5);         \
    T a6 = SET1(6), a7 = SET1(7), a8 = SET1(8), a9 = SET1(9), a10 = SET1(10), a11 = SET1(11);     \
    for (long k = 0; k < ITERS; k++) {                                                            \
        a0 = FMA(a0, x, y);                                                                       \
        a1 = FMA(a1, x, y);                                                                       \
        a2 = FMA(a2, x, y);                                                                       \
        a3 = FMA(a3, x, y);                                                                       \
        a4 = FMA(a4, x, y);                                                                       \
        a5 = FMA(a5, x, y);                                                                       \
        a6 = FMA(a6, x, y);                                                                       \
        a7 = FMA(a7, x, y);                                                                       \
        a8 = FMA(a8, x, y);                                                                       \
        a9 = FMA(a9, x, y);                                                                       \
        a10 = FMA(a10, x, y);                                                                     \
        a11 = FMA(a11, x, y);                                                                     \
        __asm__ volatile("" ::: "memory");                                                        \
    }                                                                                             \
    T s = ADD(ADD(ADD(a0, a1), ADD(a2, a3)), ADD(ADD(a4, a5), ADD(a6, a7)));                      \
    s = ADD(s, ADD(ADD(a8, a9), ADD(a10, a11)));                                                  \
    *sink = REDUCE(s);                                                                            \
    return 12.0 * 2 * W * (double)ITERS;

__attribute__((target("avx512f"))) static double run512(float *sink) {
    CHAINS(__m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, _mm512_reduce_add_ps, 16)
}

#pragma GCC diagnostic ignored "-Wpsabi"
__attribute__((target("avx2,fma"))) static inline float hsum256(__m256 v) {
    float f[8];
    _mm256_storeu_ps(f, v);
    return f[0] + f[1] + f[2] + f[3] + f[4] + f[5] + f[6] + f[7];
}

__attribute__((target("avx2,fma"))) static double run256(float *sink) {
    CHAINS(__m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, hsum256, 8)
}

/* Twelve chains of vpdpbusd (zmm), in named variables like CHAINS (an
 * array would be spilled around the memory clobber): 64 u8 x s8 products
 * added per instruction, counted as 128 operations like an FMA's two. */
#define DP(a) a = _mm512_dpbusd_epi32(a, x, y)
__attribute__((target("avx512f,avx512bw,avx512vnni"))) static double run_vnni(int *sink) {
    __m512i x = _mm512_set1_epi32(0x01020304), y = _mm512_set1_epi32(0x01010101);
    __m512i a0 = _mm512_set1_epi32(0), a1 = _mm512_set1_epi32(1), a2 = _mm512_set1_epi32(2);
    __m512i a3 = _mm512_set1_epi32(3), a4 = _mm512_set1_epi32(4), a5 = _mm512_set1_epi32(5);
    __m512i a6 = _mm512_set1_epi32(6), a7 = _mm512_set1_epi32(7), a8 = _mm512_set1_epi32(8);
    __m512i a9 = _mm512_set1_epi32(9), a10 = _mm512_set1_epi32(10), a11 = _mm512_set1_epi32(11);
    for (long k = 0; k < ITERS; k++) {
        DP(a0);
        DP(a1);
        DP(a2);
        DP(a3);
        DP(a4);
        DP(a5);
        DP(a6);
        DP(a7);
        DP(a8);
        DP(a9);
        DP(a10);
        DP(a11);
        __asm__ volatile("" ::: "memory");
    }
    __m512i s =
        _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(a0, a1), _mm512_add_epi32(a2, a3)),
                         _mm512_add_epi32(_mm512_add_epi32(a4, a5), _mm512_add_epi32(a6, a7)));
    s = _mm512_add_epi32(s,
                         _mm512_add_epi32(_mm512_add_epi32(a8, a9), _mm512_add_epi32(a10, a11)));
    *sink = _mm512_reduce_add_epi32(s);
    return 12.0 * 128 * (double)ITERS;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    int wide = __builtin_cpu_supports("avx512f");
    if (!wide && !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) {
        printf("peak: no AVX2+FMA on this CPU, not measured\n");
        return 0;
    }
    double flop = 0, t0 = now_s();
    float sink = 0;
#pragma omp parallel num_threads(threads) reduction(+ : flop, sink)
    {
        float s;
        flop += wide ? run512(&s) : run256(&s);
        sink += s;
    }
    double dt = now_s() - t0;
    printf("peak threads=%d isa=%s gflops=%.1f (checksum %g)\n", threads, wide ? "avx512" : "avx2",
           flop / dt / 1e9, (double)sink);
    if (!__builtin_cpu_supports("avx512vnni")) {
        printf("peak int8: no AVX512-VNNI on this CPU, not measured\n");
        return 0;
    }
    double ops = 0;
    int isink = 0;
    t0 = now_s();
#pragma omp parallel num_threads(threads) reduction(+ : ops, isink)
    {
        int s;
        ops += run_vnni(&s);
        isink += s;
    }
    dt = now_s() - t0;
    printf("peak threads=%d isa=avx512_vnni gops=%.1f (checksum %d)\n", threads, ops / dt / 1e9,
           isink);
    return 0;
}
