/* The Pathfinder generator; the algorithm and its sources are in pathfinder.h.
 * Function names follow snakes.py / snakes2.py so the two read side by side.
 * Images are row-major [y][x] doubles; points are (y, x). */
#include "data_prep/pathfinder.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "core/philox.h"

#define N_MAX (SB_PF_MAX_SIZE * SB_PF_MAX_SIZE)
#define BLOWN_MAX 64 /* side of the largest antialiased paddle canvas */

void sb_pf_params_lra32(sb_pf_params *p, int contour_length) {
    *p = (sb_pf_params){
        .size = 32, .padding = 1, .antialias_scale = 2, .paddle_length = 2, .paddle_thickness = 0.5f,
        .margin = 1, .marker_radius = 1.5f, .seed_distance = 7, .continuity = 1.0f,
        .contour_length = contour_length, .distractor_length = contour_length / 3,
        .n_distractors = 20 / (contour_length / 3 > 0 ? contour_length / 3 : 1),
        .snake_contrast = 2.0f, .paddle_contrast = 0.75f, .max_paddle_retrial = 2, .max_distractor_retrial = 4,
    };
}

typedef struct {
    const sb_pf_params *p;
    sb_rng_reader rng;
    int n; /* side */
} gen;

static double rand_unit(gen *g) { return (double)sb_rng_next_u32(&g->rng) * (1.0 / 4294967296.0); }
/* numpy randint(lo, hi): hi exclusive */
static int randint(gen *g, int lo, int hi) { return lo + (int)sb_u32_below(sb_rng_next_u32(&g->rng), (uint32_t)(hi - lo)); }

/* translate_coord: ceil of the displaced point */
static void translate(const int in[2], double theta, double dist, int out[2]) {
    out[0] = (int)ceil(in[0] + dist * sin(theta));
    out[1] = (int)ceil(in[1] + dist * cos(theta));
}

static double flip_by_pi(double o) { return o < 0 ? o + M_PI : o - M_PI; }

/* ---- PIL/scipy image operations ---- */

static double lanczos3(double x) {
    if (x == 0.0) return 1.0;
    if (x <= -3.0 || x >= 3.0) return 0.0;
    double px = M_PI * x;
    return 3.0 * sin(px) * sin(px / 3.0) / (px * px);
}

/* PIL's Lanczos resample of an 8-bit square image, horizontal pass then
 * vertical, each rounded and clipped to 8 bits (Pillow's ImagingResample). */
static void resize_lanczos_u8(const double *in, int n_in, double *out, int n_out) {
    double tmp[BLOWN_MAX * BLOWN_MAX], w[BLOWN_MAX][BLOWN_MAX];
    int lo[BLOWN_MAX], len[BLOWN_MAX];
    const double scale = (double)n_in / n_out, fs = scale > 1.0 ? scale : 1.0, support = 3.0 * fs;
    for (int o = 0; o < n_out; o++) {
        double center = (o + 0.5) * scale, total = 0.0;
        int xmin = (int)(center - support + 0.5), xmax = (int)(center + support + 0.5);
        if (xmin < 0) xmin = 0;
        if (xmax > n_in) xmax = n_in;
        lo[o] = xmin;
        len[o] = xmax - xmin;
        for (int k = 0; k < len[o]; k++) total += w[o][k] = lanczos3((k + xmin - center + 0.5) / fs);
        for (int k = 0; k < len[o]; k++) w[o][k] /= total;
    }
#define CLIP8(v) ((v) < 0.0 ? 0.0 : (v) > 255.0 ? 255.0 : floor((v) + 0.5))
    for (int y = 0; y < n_in; y++)
        for (int o = 0; o < n_out; o++) {
            double s = 0.0;
            for (int k = 0; k < len[o]; k++) s += w[o][k] * in[y * n_in + lo[o] + k];
            tmp[y * n_out + o] = CLIP8(s);
        }
    for (int o = 0; o < n_out; o++)
        for (int x = 0; x < n_out; x++) {
            double s = 0.0;
            for (int k = 0; k < len[o]; k++) s += w[o][k] * tmp[(lo[o] + k) * n_out + x];
            out[o * n_out + x] = CLIP8(s);
        }
#undef CLIP8
}

/* scipy.misc.bytescale: min-max to 0..255, +0.5, truncated */
static void bytescale(const double *in, int count, double *out) {
    double lo = in[0], hi = in[0];
    for (int i = 1; i < count; i++) lo = in[i] < lo ? in[i] : lo, hi = in[i] > hi ? in[i] : hi;
    double range = hi - lo > 0 ? hi - lo : 1.0;
    for (int i = 0; i < count; i++) {
        double v = (in[i] - lo) * (255.0 / range);
        v = v < 0 ? 0 : v > 255 ? 255 : v;
        out[i] = floor(v + 0.5);
    }
}

/* cv2.dilate on a float64 image: max over the kernel's nonzero taps, anchor
 * at the kernel centre, outside pixels ignored; a pixel whose taps all fall
 * outside the image gets OpenCV's constant border for dilation, -DBL_MAX
 * (here -inf). Only a kernel off its centre can leave such pixels: the seed's
 * head-centred paddle (sample_free_tail). */
static void dilate(const double *in, int h, int w, const uint8_t *kernel, int kh, int kw, double *out) {
    const int ay = kh / 2, ax = kw / 2;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double m = 0.0;
            int any = 0;
            for (int i = 0; i < kh; i++)
                for (int j = 0; j < kw; j++) {
                    int yy = y + i - ay, xx = x + j - ax;
                    if (!kernel[i * kw + j] || yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
                    double v = in[yy * w + xx];
                    if (!any || v > m) m = v, any = 1;
                }
            out[y * w + x] = any ? m : -INFINITY;
        }
}

/* generate_dilation_struct: a disk of radius r in a (2r+1)^2 box */
static int disk(int r, uint8_t *k) {
    int s = 2 * r + 1;
    for (int y = -r; y <= r; y++)
        for (int x = -r; x <= r; x++) k[(y + r) * s + x + r] = x * x + y * y <= r * r;
    return s;
}

/* ImageDraw.line of width 1: Bresenham, both ends included */
static void draw_line(double *im, int n, int x0, int y0, int x1, int y1, double value) {
    int dx = abs(x1 - x0), dy = -abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, e = dx + dy;
    for (;;) {
        if (x0 >= 0 && x0 < n && y0 >= 0 && y0 < n) im[y0 * n + x0] = value;
        if (x0 == x1 && y0 == y1) break;
        int e2 = 2 * e;
        if (e2 >= dy) e += dy, x0 += sx;
        if (e2 <= dx) e += dx, y0 += sy;
    }
}

/* draw_line_n_mask: a paddle from start along theta, drawn at antialias
 * scale, downsampled; l_im = its image x contrast, m_im = its dilated mask,
 * both [out_n, out_n]. */
static void draw_line_n_mask(const gen *g, int out_n, const int start[2], double theta, double contrast, double *l_im,
                             double *m_im) {
    const sb_pf_params *p = g->p;
    const int aa = p->antialias_scale, R = p->paddle_length + (int)ceil(p->paddle_thickness) + p->margin;
    const int S2 = 2 * R * aa + 1, c2 = R * aa, S1 = 2 * R + 1;
    double blown[BLOWN_MAX * BLOWN_MAX] = {0}, dil[BLOWN_MAX * BLOWN_MAX], mini_l[BLOWN_MAX * BLOWN_MAX],
           mini_m[BLOWN_MAX * BLOWN_MAX];
    int c[2] = {c2, c2}, head[2];
    translate(c, theta, p->paddle_length * aa, head);
    draw_line(blown, S2, c2, c2, head[1], head[0], 255.0);
    bytescale(blown, S2 * S2, blown); /* imresize of a float image bytescales first */
    resize_lanczos_u8(blown, S2, mini_l, S1);
    uint8_t k[BLOWN_MAX * BLOWN_MAX];
    int ks = disk(p->margin * aa, k);
    dilate(blown, S2, S2, k, ks, ks, dil);
    resize_lanczos_u8(dil, S2, mini_m, S1);
    memset(l_im, 0, sizeof(double) * out_n * out_n);
    memset(m_im, 0, sizeof(double) * out_n * out_n);
    for (int y = start[0] - R; y <= start[0] + R; y++)
        for (int x = start[1] - R; x <= start[1] + R; x++) {
            if (y < 0 || y >= out_n || x < 0 || x >= out_n) continue;
            int my = y - (start[0] - R), mx = x - (start[1] - R);
            l_im[y * out_n + x] = mini_l[my * S1 + mx] / 255.0 * contrast;
            m_im[y * out_n + x] = mini_m[my * S1 + mx] / 255.0;
        }
}

static void maximum(double *a, const double *b, int count) {
    for (int i = 0; i < count; i++) a[i] = b[i] > a[i] ? b[i] : a[i];
}

static int in_image(const gen *g, const int c[2]) { return c[0] >= 0 && c[0] < g->n && c[1] >= 0 && c[1] < g->n; }

/* Sample a free seed tail for a paddle at theta, from the pixels of
 * `lined` (the occupancy with forbidden bands) still free (<= 0.3) after
 * dilation by the paddle's own head-centred mask. 0: none free, and also
 * when the dilation left any pixel at the border value: the reference's
 * find_available_coordinates returns nothing for a mask with a negative
 * entry. The kernel's head sits one pixel off its centre, so for most
 * orientations some edge pixel has no tap inside the image, and only
 * orientations whose paddle reaches back over every edge (on Pathfinder32,
 * -150 to -121 degrees) can seed: every first target paddle points that
 * way, and most distractor seeds fail (about 1 distractor snake an image
 * at the hard level, where ignoring the border drew 4 to 5). */
static int sample_free_tail(gen *g, const double *lined, double theta, int tail[2]) {
    const sb_pf_params *p = g->p;
    const int L = p->paddle_length, m = p->margin, ks = 2 * (L + m) + 1;
    double sl[BLOWN_MAX * BLOWN_MAX], sm[BLOWN_MAX * BLOWN_MAX], dil[N_MAX];
    int head[2] = {L + m + 1, L + m + 1};
    draw_line_n_mask(g, ks, head, theta, 1.0, sl, sm);
    uint8_t k[BLOWN_MAX * BLOWN_MAX];
    for (int i = 0; i < ks * ks; i++) k[i] = sm[i] >= 1.0; /* struct.astype(uint8) */
    dilate(lined, g->n, g->n, k, ks, ks, dil);
    int free_px[N_MAX], n_free = 0;
    for (int i = 0; i < g->n * g->n; i++) {
        if (dil[i] < 0.0) return 0; /* the border value: no pixel is free */
        if (dil[i] <= 0.3) free_px[n_free++] = i;
    }
    if (!n_free) return 0;
    int pick = free_px[randint(g, 0, n_free)];
    tail[0] = pick / g->n, tail[1] = pick % g->n;
    return 1;
}

typedef struct {
    int pivot[2];
    double orientation;
    double seg_mask[N_MAX]; /* the last paddle's mask, merged into the occupancy one paddle later */
    double image[N_MAX];
    int head[2];
} snake;

/* extend_snake: one more paddle; updates s, the shared occupancy mask. */
static int extend_snake(gen *g, snake *s, double *mask, double contrast) {
    const sb_pf_params *p = g->p;
    const int n = g->n, N = n * n, L = p->paddle_length, m = p->margin;
    int pivot[2];
    translate(s->pivot, s->orientation, L + 2 * m, pivot);
    uint8_t k[BLOWN_MAX * BLOWN_MAX];
    int ks = disk(m, k);
    double dil[N_MAX];
    dilate(mask, n, n, k, ks, ks, dil);
    /* get_coords_cmf: integer points on a circle of radius L + m around the pivot */
    const double step = L + m, deg = 360.0 / (2.0 * step * M_PI);
    int cy[512], cx[512], nc = 0;
    for (int i = 0; i * deg < 360.0 && nc < 512; i++) {
        double a = i * deg * M_PI / 180.0, y = pivot[0] + step * sin(a), x = pivot[1] + step * cos(a);
        if (y >= n || y < 0 || x >= n || x < 0) continue;
        int iy = (int)y, ix = (int)x, dup = 0;
        for (int j = 0; j < nc; j++) dup |= cy[j] == iy && cx[j] == ix;
        if (!dup) cy[nc] = iy, cx[nc] = ix, nc++;
    }
    if (!nc) return 0;
    for (int i = 1; i < nc; i++) /* np.unique sorts by (y, x) */
        for (int j = i; j > 0 && (cy[j] < cy[j - 1] || (cy[j] == cy[j - 1] && cx[j] < cx[j - 1])); j--) {
            int t = cy[j]; cy[j] = cy[j - 1]; cy[j - 1] = t;
            t = cx[j]; cx[j] = cx[j - 1]; cx[j - 1] = t;
        }
    double orient[512], cmf[512], total = 0.0;
    for (int i = 0; i < nc; i++) {
        orient[i] = atan2((double)(cy[i] - pivot[0]), (double)(cx[i] - pivot[1]));
        double d = fabs(orient[i] - s->orientation);
        d = d < 2 * M_PI - d ? d : 2 * M_PI - d;
        d = d * p->continuity < 0.5 * M_PI ? d * p->continuity : 0.5 * M_PI;
        double c = cos(d) > 0 ? cos(d) : 0;
        total += cmf[i] = (1.0 - dil[cy[i] * n + cx[i]]) * c * c;
    }
    if (total < 1e-4) return 0;
    double acc = 0.0;
    for (int i = 0; i < nc; i++) cmf[i] = acc += cmf[i] / total;
    double l_im[N_MAX], m_im[N_MAX];
    for (int trial = 0; trial <= p->max_paddle_retrial; trial++) {
        double r = rand_unit(g);
        int idx = 0;
        while (idx < nc && !(cmf[idx] - r > 0)) idx++;
        if (idx == nc) idx = 0; /* np.argmax of an all-False array */
        int head[2] = {cy[idx], cx[idx]};
        draw_line_n_mask(g, n, head, flip_by_pi(orient[idx]), contrast, l_im, m_im);
        double mx = 0.0;
        for (int i = 0; i < N; i++) mx = mask[i] + m_im[i] > mx ? mask[i] + m_im[i] : mx;
        if (mx < 1.8) {
            maximum(s->image, l_im, N);
            maximum(mask, s->seg_mask, N);
            memcpy(s->seg_mask, m_im, sizeof(double) * N);
            s->pivot[0] = pivot[0], s->pivot[1] = pivot[1];
            s->orientation = orient[idx];
            s->head[0] = head[0], s->head[1] = head[1];
            return 1;
        }
    }
    return 0;
}

static double random_orientation(gen *g) { return randint(g, -180, 180) * M_PI / 180.0; }

/* Seed a paddle at a tail: its pivot (behind the tail), image and mask. 0 if the head or pivot leave the image. */
static int seed_at(gen *g, snake *s, const int tail[2], double theta, double contrast) {
    const sb_pf_params *p = g->p;
    int head[2], pivot[2];
    translate(tail, theta, p->paddle_length, head);
    translate(head, flip_by_pi(theta), p->paddle_length + p->margin, pivot);
    if (!in_image(g, head) || !in_image(g, pivot)) return 0;
    double l_im[N_MAX];
    draw_line_n_mask(g, g->n, tail, theta, contrast, l_im, s->seg_mask);
    maximum(s->image, l_im, g->n * g->n);
    s->pivot[0] = pivot[0], s->pivot[1] = pivot[1];
    s->orientation = theta;
    s->head[0] = head[0], s->head[1] = head[1];
    return 1;
}

/* two_snakes (with initialize_two_seeds): 1 on success. */
static int two_snakes(gen *g, snake sn[2], double *mask, sb_pf_trace *tr) {
    const sb_pf_params *p = g->p;
    const int n = g->n, N = n * n;
    const double contrast = p->paddle_contrast * p->snake_contrast;
    memset(mask, 0, sizeof(double) * N);
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++)
            if (y < p->padding || y >= n - p->padding || x < p->padding || x >= n - p->padding) mask[y * n + x] = 1.0;
    for (int s = 0; s < 2; s++) memset(sn[s].image, 0, sizeof(double) * N);
    /* first seed: anywhere free outside a band of 2 x seed_distance */
    double lined[N_MAX];
    const int band = 2 * p->seed_distance;
    int tail[2][2], trial;
    for (trial = 0; trial <= p->max_paddle_retrial; trial++) {
        double theta = random_orientation(g);
        memcpy(lined, mask, sizeof(double) * N);
        for (int y = 0; y < n; y++)
            for (int x = 0; x < n; x++)
                if (y < band || y >= n - band || x < band || x >= n - band) lined[y * n + x] = 1.0;
        if (!sample_free_tail(g, lined, theta, tail[0])) return 0;
        if (seed_at(g, &sn[0], tail[0], theta, contrast)) {
            tr->seed_degrees = (int)lround(theta * 180.0 / M_PI);
            break;
        }
    }
    if (trial > p->max_paddle_retrial) return 0;
    /* second seed: seed_distance away in a random direction */
    for (trial = 0; trial <= p->max_paddle_retrial; trial++) {
        double theta = random_orientation(g), a = randint(g, 0, 360) * M_PI / 180.0;
        tail[1][0] = (int)rint(tail[0][0] + p->seed_distance * sin(a)); /* np.round_: half to even */
        tail[1][1] = (int)rint(tail[0][1] + p->seed_distance * cos(a));
        if (seed_at(g, &sn[1], tail[1], theta, contrast)) break;
    }
    if (trial > p->max_paddle_retrial) return 0;
    for (int s = 0; s < 2; s++) {
        tr->tail[s][0] = tail[s][0], tr->tail[s][1] = tail[s][1];
        tr->head[s][0][0] = sn[s].head[0], tr->head[s][0][1] = sn[s].head[1];
        tr->n_paddles[s] = 1;
    }
    /* grow both, alternately */
    for (int seg = 0; seg < p->contour_length - 1; seg++)
        for (int s = 0; s < 2; s++) {
            if (!extend_snake(g, &sn[s], mask, contrast)) return 0;
            int k = tr->n_paddles[s]++;
            tr->head[s][k][0] = sn[s].head[0], tr->head[s][k][1] = sn[s].head[1];
        }
    maximum(mask, sn[1].seg_mask, N); /* as snakes2.py: only the last snake's last paddle */
    return 1;
}

/* make_snake (seed_snake + extend_snake) for a distractor; draws into image
 * and mask only if the whole snake fits. */
static int make_snake(gen *g, double *image, double *mask, snake *s) {
    const sb_pf_params *p = g->p;
    const int n = g->n, N = n * n;
    const double contrast = p->snake_contrast;
    double work_mask[N_MAX], lined[N_MAX];
    memcpy(work_mask, mask, sizeof(double) * N);
    memcpy(s->image, image, sizeof(double) * N);
    int trial, tail[2];
    for (trial = 0; trial <= p->max_paddle_retrial; trial++) {
        double theta = random_orientation(g);
        int raw_free = 0;
        for (int i = 0; i < N; i++) raw_free += mask[i] <= 0.3;
        if ((double)raw_free / N < 0.01) return 0; /* stop_with_availability */
        memcpy(lined, mask, sizeof(double) * N);
        for (int y = 0; y < n; y++)
            for (int x = 0; x < n; x++)
                if (y == 0 || y == n - 1 || x == 0 || x == n - 1) lined[y * n + x] = 1.0;
        if (!sample_free_tail(g, lined, theta, tail)) return 0;
        if (seed_at(g, s, tail, theta, contrast)) break;
    }
    if (trial > p->max_paddle_retrial) return 0;
    for (int seg = 0; seg < p->distractor_length - 1; seg++)
        if (!extend_snake(g, s, work_mask, contrast)) return 0;
    maximum(work_mask, s->seg_mask, N);
    memcpy(mask, work_mask, sizeof(double) * N);
    memcpy(image, s->image, sizeof(double) * N);
    return 1;
}

/* draw_circle: a disk at antialias scale, imresized (bytescaled, Lanczos) to the window */
static void draw_circle(const gen *g, const int c[2], double *out) {
    const int aa = g->p->antialias_scale, n = g->n, B = n * aa;
    double big[BLOWN_MAX * BLOWN_MAX], r = g->p->marker_radius * aa;
    for (int y = 0; y < B; y++)
        for (int x = 0; x < B; x++) {
            double dy = y - c[0] * aa, dx = x - c[1] * aa;
            big[y * B + x] = dx * dx + dy * dy <= r * r;
        }
    bytescale(big, B * B, big);
    resize_lanczos_u8(big, B, out, n);
}

int sb_pf_generate(const sb_pf_params *p, uint64_t seed, uint64_t index, uint8_t *pixels, sb_pf_trace *tr) {
    const int n = p->size, N = n * n;
    int R = p->paddle_length + (int)ceil(p->paddle_thickness) + p->margin;
    if (n < 8 || n > SB_PF_MAX_SIZE || n * p->antialias_scale > BLOWN_MAX || 2 * R * p->antialias_scale + 1 > BLOWN_MAX ||
        lround(p->paddle_thickness * p->antialias_scale) != 1 || p->contour_length < 1 ||
        p->contour_length > SB_PF_MAX_PADDLES || p->margin < 1)
        return -1; /* width-1 antialiased lines only, as Pathfinder32 */
    gen g = {.p = p, .n = n};
    sb_rng_reader_init(&g.rng, sb_rng_make(seed, SB_RNG_DATA_TRAIN, (uint32_t)(index >> 32), 0, 0, (uint32_t)index));
    memset(tr, 0, sizeof *tr);
    static _Thread_local snake sn[3];
    double mask[N_MAX], image[N_MAX];
    tr->label = randint(&g, 0, 2);
    do tr->attempts++;
    while (!two_snakes(&g, sn, mask, tr));
    for (int i = 0; i < N; i++) image[i] = sn[0].image[i] > sn[1].image[i] ? sn[0].image[i] : sn[1].image[i];
    for (int d = 0; d < p->n_distractors; d++)
        for (int t = 0; t <= p->max_distractor_retrial; t++)
            if (make_snake(&g, image, mask, &sn[2])) {
                tr->distractors++;
                break;
            }
    /* markers */
    tr->origin_snake = randint(&g, 0, 2);
    tr->terminal_snake = tr->label ? tr->origin_snake : 1 - tr->origin_snake;
    const int *o = tr->tail[tr->origin_snake];
    const int *t = tr->head[tr->terminal_snake][tr->n_paddles[tr->terminal_snake] - 1];
    tr->marker[0][0] = o[0], tr->marker[0][1] = o[1], tr->marker[1][0] = t[0], tr->marker[1][1] = t[1];
    double c1[N_MAX], c2[N_MAX];
    draw_circle(&g, o, c1);
    draw_circle(&g, t, c2);
    for (int i = 0; i < N; i++) {
        double mk = (c1[i] > c2[i] ? c1[i] : c2[i]) / 255.0;
        image[i] = mk > image[i] ? mk : image[i];
    }
    double scaled[N_MAX];
    bytescale(image, N, scaled); /* scipy.misc.imsave */
    for (int i = 0; i < N; i++) pixels[i] = (uint8_t)scaled[i];
    return 0;
}
