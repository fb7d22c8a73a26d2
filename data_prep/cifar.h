/* CIFAR-10's binary batches (data_batch_1..5.bin, test_batch.bin): records of
 * 1 label byte + 3072 bytes (1024 red, 1024 green, 1024 blue, row-major). */
#ifndef SB_CIFAR_H
#define SB_CIFAR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SB_CIFAR_RECORD 3073

typedef struct {
    FILE *f;
    char path[4096];
    int64_t next;  /* next record */
} sb_cifar_file;

int sb_cifar_open(sb_cifar_file *c, const char *path, char *err, size_t errlen);
/* 1: a record was read; 0: end of file; -1: a partial record (message names file and record). */
int sb_cifar_next(sb_cifar_file *c, uint8_t rec[SB_CIFAR_RECORD], char *err, size_t errlen);
void sb_cifar_close(sb_cifar_file *c);
/* LRA's grayscale: tf.image.rgb_to_grayscale (0.2989, 0.5870, 0.1140 on
 * pixels / 255) then convert_image_dtype back to uint8 (x 255.5, truncated). */
void sb_cifar_gray(const uint8_t rec[SB_CIFAR_RECORD], uint8_t gray[1024]);

#endif
