/* 8-bit PNG files through libpng's simplified API. */
#ifndef SB_PNG_IO_H
#define SB_PNG_IO_H

#include <stddef.h>
#include <stdint.h>

/* Read a PNG as 8-bit grayscale into out[w*h], requiring exactly w x h
 * pixels; -1 with a message naming the file otherwise. */
int sb_png_read_gray(const char *path, int w, int h, uint8_t *out, char *err, size_t errlen);
/* Write pixels [h, w, channels] (1 = gray, 3 = RGB) to path. */
int sb_png_write(const char *path, const uint8_t *pixels, int w, int h, int channels, char *err, size_t errlen);

#endif
