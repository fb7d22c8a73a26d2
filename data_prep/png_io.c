#include "data_prep/png_io.h"
#include <png.h>
#include <stdio.h>
#include <string.h>

int sb_png_read_gray(const char *path, int w, int h, uint8_t *out, char *err, size_t errlen) {
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&im, path)) {
        snprintf(err, errlen, "%s: cannot read PNG: %s", path, im.message);
        return -1;
    }
    if ((int)im.width != w || (int)im.height != h) {
        snprintf(err, errlen, "%s: image is %ux%u, expected %dx%d", path, im.width, im.height, w, h);
        png_image_free(&im);
        return -1;
    }
    im.format = PNG_FORMAT_GRAY;
    if (!png_image_finish_read(&im, NULL, out, 0, NULL)) {
        snprintf(err, errlen, "%s: cannot decode PNG: %s", path, im.message);
        png_image_free(&im);
        return -1;
    }
    return 0;
}

int sb_png_write(const char *path, const uint8_t *pixels, int w, int h, int channels, char *err, size_t errlen) {
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    im.width = (png_uint_32)w;
    im.height = (png_uint_32)h;
    im.format = channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    if (!png_image_write_to_file(&im, path, 0, pixels, 0, NULL)) {
        snprintf(err, errlen, "%s: cannot write PNG: %s", path, im.message);
        return -1;
    }
    return 0;
}
