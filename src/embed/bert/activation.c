#include "embed/bert/activation.h"

#include "embed/bert/clones.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/*
 * e^x by range reduction: x = n ln2 + r with n an integer and |r| <= ln2/2,
 * e^r from a degree-7 polynomial (Cephes' expf coefficients), and 2^n put
 * straight into the float's exponent bits.  ln2 is split in two parts so
 * that n ln2 is subtracted without losing r's low bits.  Rounding x log2e
 * to an integer adds and subtracts 1.5 * 2^23, which works without SSE4.1
 * rounding instructions and so vectorises on every target.
 */
static inline float exp_approx(float x) {
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float y = p * r * r + r + 1.0f;
    int32_t bits = ((int32_t)n + 127) * (1 << 23);
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return y * scale;
}

/* erfc(z) for z >= 0: t e^(-z^2 + P(t)) with t = 1 / (1 + z/2) and P a
 * degree-9 Chebyshev fit; relative error below 1.2e-7 for every z >= 0,
 * which keeps the small tail of GELU for negative x accurate too. */
static inline float erfc_nonneg(float z) {
    float t = 1.0f / (1.0f + 0.5f * z);
    float p = 0.17087277f;
    p = p * t - 0.82215223f;
    p = p * t + 1.48851587f;
    p = p * t - 1.13520398f;
    p = p * t + 0.27886807f;
    p = p * t - 0.18628806f;
    p = p * t + 0.09678418f;
    p = p * t + 0.37409196f;
    p = p * t + 1.00002368f;
    p = p * t - 1.26551223f;
    return t * exp_approx(-z * z + p);
}

RB_CLONES void rb_act_exp(float *x, size_t n) {
#pragma omp simd
    for (size_t i = 0; i < n; i++) x[i] = exp_approx(x[i]);
}

/* 1 + erf(u) is 2 - erfc(u) for u >= 0 and erfc(-u) below: both forms
 * keep their precision, where 1 + erf(u) would cancel for negative u. */
RB_CLONES void rb_act_gelu_erf(float *x, size_t n) {
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        float v = x[i], u = v * 0.70710678118654752f;
        float e = erfc_nonneg(u < 0 ? -u : u);
        x[i] = 0.5f * v * (u < 0 ? e : 2.0f - e);
    }
}

/* 0.5 x (1 + tanh y) = x / (1 + e^(-2y)). */
RB_CLONES void rb_act_gelu_tanh(float *x, size_t n) {
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        float y = 0.7978845608028654f * (v + 0.044715f * v * v * v);
        x[i] = v / (1.0f + exp_approx(-2.0f * y));
    }
}

RB_CLONES void rb_act_softmax_rows(float *S, size_t rows, size_t L, float scale) {
    for (size_t r = 0; r < rows; r++) {
        float *row = S + r * L;
        float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
        for (size_t j = 0; j < L; j++) mx = row[j] > mx ? row[j] : mx;
        float sum = 0;
#pragma omp simd reduction(+ : sum)
        for (size_t j = 0; j < L; j++) {
            float e = exp_approx((row[j] - mx) * scale);
            row[j] = e;
            sum += e;
        }
        float inv = 1.0f / sum;
#pragma omp simd
        for (size_t j = 0; j < L; j++) row[j] *= inv;
    }
}

/* Two passes (mean, then the squared deviations) in double: no
 * cancellation, and the loops still vectorise. */
RB_CLONES void rb_act_add_layernorm(float *row, const float *add, const float *g, const float *b,
                                    size_t H, float eps) {
    double sum = 0, var = 0;
    if (add) {
#pragma omp simd
        for (size_t i = 0; i < H; i++) row[i] += add[i];
    }
#pragma omp simd reduction(+ : sum)
    for (size_t i = 0; i < H; i++) sum += row[i];
    double mean = sum / (double)H;
#pragma omp simd reduction(+ : var)
    for (size_t i = 0; i < H; i++) {
        double d = row[i] - mean;
        var += d * d;
    }
    float inv = (float)(1.0 / sqrt(var / (double)H + eps));
    float fm = (float)mean;
#pragma omp simd
    for (size_t i = 0; i < H; i++) row[i] = (row[i] - fm) * inv * g[i] + b[i];
}
