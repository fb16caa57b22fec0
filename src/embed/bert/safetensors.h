/*
 * safetensors.h -- read-only access to a .safetensors weight file.
 *
 * The file is mapped with mmap(PROT_READ, MAP_PRIVATE) once; the header (an
 * 8-byte little-endian length, then JSON) is parsed with the project's JSON
 * module and checked: every tensor's dtype and shape must agree with its
 * byte range, and every range must lie inside the file.  Tensor data
 * pointers point into the mapping and stay valid until
 * rb_safetensors_destroy(); the mapping is shared, so any number of
 * threads may read it.
 *
 * rb_safetensors_f32() hands out a tensor as float32: F32 data that is
 * suitably aligned is returned in place (zero copy); F16, BF16 or unaligned
 * F32 data is converted once into a buffer owned by the caller.  Shape
 * mismatches are RB_ERR_MODEL errors naming the file and the tensor.
 */
#ifndef RB_SAFETENSORS_H
#define RB_SAFETENSORS_H

#include "common/error.h"

#include <stddef.h>

typedef enum rb_st_dtype {
    RB_ST_F32 = 0,
    RB_ST_F16,
    RB_ST_BF16,
    RB_ST_OTHER /* I64, U8, ...: listed but not convertible */
} rb_st_dtype;

#define RB_ST_MAX_DIMS 8

typedef struct rb_st_tensor {
    const char *name; /* valid while the file is open */
    rb_st_dtype dtype;
    const char *dtype_name;
    size_t ndim;
    size_t shape[RB_ST_MAX_DIMS];
    const void *data; /* into the mapping */
    size_t nbytes;
} rb_st_tensor;

typedef struct rb_safetensors rb_safetensors;

rb_safetensors *rb_safetensors_open(const char *path, rb_error *err);
void rb_safetensors_destroy(rb_safetensors *st); /* accepts NULL */

size_t rb_safetensors_count(const rb_safetensors *st);
const rb_st_tensor *rb_safetensors_at(const rb_safetensors *st, size_t i);
/* The tensor called `name`, or NULL. */
const rb_st_tensor *rb_safetensors_find(const rb_safetensors *st, const char *name);
const char *rb_safetensors_path(const rb_safetensors *st);

/* Looks up `name`, checks it has exactly the `ndim` dimensions in `shape`,
 * and sets *data to float32 values.  *owned is NULL when *data points into
 * the mapping, else the converted buffer the caller must free(). */
int rb_safetensors_f32(const rb_safetensors *st, const char *name, size_t ndim,
                       const size_t *shape, const float **data, float **owned, rb_error *err);

/* IEEE half and bfloat16 to float (exact). */
/* Tells the kernel that the bytes [p, p + len) of the mapping will not be
 * needed soon (a tensor that was copied elsewhere): their resident pages
 * are dropped and read again from the file if touched later.  Only whole
 * pages inside the range are affected; a range outside the mapping (an
 * owned, converted tensor) is left alone. */
void rb_safetensors_release(const rb_safetensors *st, const void *p, size_t len);

float rb_half_to_float(unsigned short h);
float rb_bf16_to_float(unsigned short h);

#endif
