/*
 * ot_table.c: the record table both protocols serve (ot.h), and the
 * constant-time select the TA does its lookup with.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ot.h"

void ot_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

uint32_t ot_get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

void ot_put_be64(uint8_t *p, uint64_t v)
{
    ot_put_be32(p, (uint32_t)(v >> 32));
    ot_put_be32(p + 4, (uint32_t)v);
}

uint64_t ot_get_be64(const uint8_t *p)
{
    return (uint64_t)ot_get_be32(p) << 32 | ot_get_be32(p + 4);
}

int ot_table_parse(const uint8_t *blob, size_t len, ot_table_t *t)
{
    if (len < OT_TABLE_HEAD || memcmp(blob, "OTT1", 4) != 0)
        return -EINVAL;
    uint32_t n = ot_get_be32(blob + 4), size = ot_get_be32(blob + 8);
    if (n == 0 || n > OT_RECORDS_MAX || size == 0 || size > OT_RECORD_MAX ||
        len - OT_TABLE_HEAD != (size_t)n * size)
        return -EINVAL;
    *t = (ot_table_t){n, size, blob + OT_TABLE_HEAD};
    return 0;
}

void ot_record_expected(uint32_t j, uint32_t size, uint8_t *out)
{
    /* A cheap per-record pattern (xorshift seeded by j): every record
     * differs, so a wrong index is always noticed. */
    uint32_t x = j * 2654435761u + 0x9e3779b9u;
    for (uint32_t k = 0; k < size; k++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        out[k] = (uint8_t)x;
    }
    char head[24];
    int n = snprintf(head, sizeof(head), "record %u", j);
    memcpy(out, head, (size_t)n < size ? (size_t)n : size);
}

uint8_t *ot_table_make(uint32_t n, uint32_t size, size_t *len)
{
    if (n == 0 || n > OT_RECORDS_MAX || size == 0 || size > OT_RECORD_MAX)
        return NULL;
    *len = OT_TABLE_HEAD + (size_t)n * size;
    uint8_t *blob = malloc(*len);
    if (blob == NULL)
        return NULL;
    memcpy(blob, "OTT1", 4);
    ot_put_be32(blob + 4, n);
    ot_put_be32(blob + 8, size);
    for (uint32_t j = 0; j < n; j++)
        ot_record_expected(j, size, blob + OT_TABLE_HEAD + (size_t)j * size);
    return blob;
}

void ot_table_select(const ot_table_t *t, uint32_t idx, uint8_t *out)
{
    memset(out, 0, t->size);
    for (uint32_t j = 0; j < t->n; j++) {
        /* mask = 0xff..ff when j == idx, else 0, without a branch: the
         * same loads and the same instructions run for every record. */
        uint32_t d = j ^ idx;
        uint64_t mask = (uint64_t)0 - (uint64_t)(((d | (0u - d)) >> 31) ^ 1u);
        const uint8_t *row = t->rows + (size_t)j * t->size;
        uint32_t k = 0;
        for (; k + 8 <= t->size; k += 8) {
            uint64_t a, b;
            memcpy(&a, row + k, 8);
            memcpy(&b, out + k, 8);
            b |= a & mask;
            memcpy(out + k, &b, 8);
        }
        for (; k < t->size; k++)
            out[k] |= (uint8_t)(row[k] & (uint8_t)mask);
    }
}
