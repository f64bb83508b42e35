/* fuzz_input.h - FuzzedDataProvider-style byte consumer for C harnesses: parameters from the END,
 * ops from the front, the minimum once exhausted (every input decodes to a finite sequence).
 * SPDX-License-Identifier: MIT */
#ifndef HM_FUZZ_INPUT_H
#define HM_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

struct fz_input {
    const uint8_t *data;
    size_t front; /* next unread byte at the front */
    size_t back;  /* one past the next unread byte at the back */
};

static inline void fz_init(struct fz_input *in, const uint8_t *data, size_t size)
{
    in->data = data;
    in->front = 0;
    in->back = data ? size : 0;
}

/* Bytes neither end has consumed yet. */
static inline size_t fz_remaining(const struct fz_input *in)
{
    return in->back - in->front;
}

/* The next byte from the front; 0 once the two ends have met. */
static inline uint8_t fz_front_byte(struct fz_input *in)
{
    return in->front < in->back ? in->data[in->front++] : 0;
}

/* A value in [min, max] built from as many bytes from the back as the range needs (at most
 * four), as FuzzedDataProvider::ConsumeIntegralInRange does; min once the input is exhausted. */
static inline uint32_t fz_back_range(struct fz_input *in, uint32_t min, uint32_t max)
{
    uint64_t range, result = 0;
    unsigned bits = 0;

    if (max <= min)
        return min;
    range = (uint64_t)max - min;
    while (bits < 32 && (range >> bits) != 0 && in->back > in->front) {
        result = (result << 8) | in->data[--in->back];
        bits += 8;
    }
    return (uint32_t)(min + result % (range + 1));
}

#endif /* HM_FUZZ_INPUT_H */
