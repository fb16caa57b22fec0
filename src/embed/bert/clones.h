/*
 * clones.h -- RB_CLONES, the attribute that compiles a hot function three
 * times on x86-64 with GCC (AVX-512, AVX2+FMA, baseline SSE2) and lets the
 * loader pick the best version the CPU has.  Elsewhere it is empty and the
 * function is compiled once for the build's target.
 */
#ifndef RB_EMBED_CLONES_H
#define RB_EMBED_CLONES_H

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define RB_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
#endif
#ifndef RB_CLONES
#define RB_CLONES
#endif

#endif
