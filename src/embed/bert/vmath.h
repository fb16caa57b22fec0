/*
 * vmath.h -- e^x and the two GELU forms on 16 floats at a time (AVX-512),
 * inlined into the kernels that apply them to values still in registers
 * (int8.c's tile store, attention.c's softmax).
 *
 * Why not activation.c's loops: those are called on a row at a time and
 * compiled without contraction (the FP32 path's results stay as they
 * were); on 32 values per call the erf GELU spent its time on one long
 * dependent chain (perf: 15% of an int8 pass), and the softmax on scalar
 * remainders of rows whose length is not a multiple of 16 (10%).  Here a
 * caller has many independent vectors in flight and uses FMA.
 *
 * Accuracy: rb_vm_exp is activation.c's exp (Cephes' polynomial, within
 * 1.5e-7 relative on [-87, 88]; below -87 it gives e^-87, never 0, so
 * callers mask what must be 0); rb_vm_gelu_erf is within 4e-7 absolute of
 * x Phi(x) (erf from a rational form, no exp); rb_vm_gelu_tanh is
 * x / (1 + e^(-2y)).  check_embed holds the bounds.
 *
 * Only for x86-64 with GCC (RB_VM_X86 defined); every function needs
 * AVX-512 F/DQ at run time, which its callers check before using it.
 */
#ifndef RB_EMBED_VMATH_H
#define RB_EMBED_VMATH_H

/* erf(u) ~ u P(u^2) / Q(u^2) on [-4, 4] (erf is 1 in float beyond): the
 * rational form Eigen and XLA use for float erf (shared with int8.c's
 * plain loop). */
#define RB_ERF_P13 -2.72614225801306e-10f
#define RB_ERF_P11 2.77068142495902e-08f
#define RB_ERF_P9 -2.10102402082508e-06f
#define RB_ERF_P7 -5.69250639462346e-05f
#define RB_ERF_P5 -7.34990630326855e-04f
#define RB_ERF_P3 -2.95459980854025e-03f
#define RB_ERF_P1 -1.60960333262415e-02f
#define RB_ERF_Q8 -1.45660718464996e-05f
#define RB_ERF_Q6 -2.13374055278905e-04f
#define RB_ERF_Q4 -1.68282697438203e-03f
#define RB_ERF_Q2 -7.37332916720468e-03f
#define RB_ERF_Q0 -1.42647390514189e-02f

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define RB_VM_X86 1
#include <immintrin.h>

#define RB_VM_FN static inline __attribute__((always_inline, target("arch=x86-64-v4"))) __m512

RB_VM_FN rb_vm_fma_c(__m512 a, __m512 b, float c) {
    return _mm512_fmadd_ps(a, b, _mm512_set1_ps(c));
}

/* e^x, 2^n applied by vscalefps. */
RB_VM_FN rb_vm_exp(__m512 x) {
    x = _mm512_max_ps(_mm512_min_ps(x, _mm512_set1_ps(88.0f)), _mm512_set1_ps(-87.0f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = rb_vm_fma_c(r, _mm512_set1_ps(1.9875691500e-4f), 1.3981999507e-3f);
    p = rb_vm_fma_c(r, p, 8.3334519073e-3f);
    p = rb_vm_fma_c(r, p, 4.1665795894e-2f);
    p = rb_vm_fma_c(r, p, 1.6666665459e-1f);
    p = rb_vm_fma_c(r, p, 5.0000001201e-1f);
    __m512 y = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(y, n);
}

/* x Phi(x) = x (1 + erf(x / sqrt 2)) / 2; 1 / Q by vrcp14ps and one
 * Newton step (a division would cost more than the polynomials). */
RB_VM_FN rb_vm_gelu_erf(__m512 v) {
    __m512 u = _mm512_mul_ps(v, _mm512_set1_ps(0.70710678118654752f));
    u = _mm512_max_ps(_mm512_min_ps(u, _mm512_set1_ps(4.0f)), _mm512_set1_ps(-4.0f));
    __m512 x2 = _mm512_mul_ps(u, u);
    __m512 p = rb_vm_fma_c(x2, _mm512_set1_ps(RB_ERF_P13), RB_ERF_P11);
    p = rb_vm_fma_c(x2, p, RB_ERF_P9);
    p = rb_vm_fma_c(x2, p, RB_ERF_P7);
    p = rb_vm_fma_c(x2, p, RB_ERF_P5);
    p = rb_vm_fma_c(x2, p, RB_ERF_P3);
    p = rb_vm_fma_c(x2, p, RB_ERF_P1);
    __m512 q = rb_vm_fma_c(x2, _mm512_set1_ps(RB_ERF_Q8), RB_ERF_Q6);
    q = rb_vm_fma_c(x2, q, RB_ERF_Q4);
    q = rb_vm_fma_c(x2, q, RB_ERF_Q2);
    q = rb_vm_fma_c(x2, q, RB_ERF_Q0);
    __m512 r = _mm512_rcp14_ps(q);
    r = _mm512_mul_ps(r, _mm512_fnmadd_ps(q, r, _mm512_set1_ps(2.0f)));
    __m512 h = _mm512_mul_ps(v, _mm512_set1_ps(0.5f));
    return _mm512_fmadd_ps(h, _mm512_mul_ps(_mm512_mul_ps(u, p), r), h);
}

/* x / (1 + e^(-2y)), y = sqrt(2/pi) (x + 0.044715 x^3). */
RB_VM_FN rb_vm_gelu_tanh(__m512 v) {
    __m512 v2 = _mm512_mul_ps(v, v);
    __m512 y = _mm512_mul_ps(_mm512_mul_ps(v, _mm512_set1_ps(-1.5957691216057308f)),
                             rb_vm_fma_c(v2, _mm512_set1_ps(0.044715f), 1.0f));
    return _mm512_div_ps(v, _mm512_add_ps(rb_vm_exp(y), _mm512_set1_ps(1.0f)));
}

#endif

#endif
