/* `sbmbench op MODEL --in IN.h5 --out OUT.h5`: one attention call, forward
 * and backward, outside any model, so a variant can be checked against an
 * outside implementation. Schema (README, "Checking one attention call"):
 *   IN:  /q /k /v /dout float32 [B,H,N,D]; /mask float32 [B,N] (optional, 1 = real);
 *        /params/<name> for every parameter of the variant; /edges int32 [E,4]
 *        (b,h,i,j), optional, replaces SBM sampling; root attributes: any
 *        manifest config key (e.g. sbm_k, sbm_delta, sbm_sampler), seed,
 *        density_weight.
 *   OUT: /out /dq /dk /dv [B,H,N,D]; /grads/<name>; /density [B,H] if any.
 * Dropout is off. Written to OUT.h5.tmp, then renamed. */
#include <cjson/cJSON.h>
#include <float.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/atomic_file.h"
#include "data_prep/h5_dataset.h"
#include "core/attention.h"
#include "core/backend.h"
#include "experiments/config.h"
#include "experiments/metrics_h5.h"
#include "experiments/util.h"

#define ERR(...)                                   \
    do {                                           \
        fprintf(stderr, "sbmbench op: " __VA_ARGS__); \
        fputc('\n', stderr);                       \
        goto fail;                                 \
    } while (0)

static void dims_str(char *buf, size_t len, int rank, const hsize_t *d) {
    size_t n = sb_appendf(buf, len, 0, "[");
    for (int i = 0; i < rank; i++) n = sb_appendf(buf, len, n, "%s%llu", i ? "," : "", (unsigned long long)d[i]);
    sb_appendf(buf, len, n, "]");
}

/* Read dataset `name` of class (float or int) with exactly `rank` dims; if
 * want[i] > 0 that dim must match. Returns malloc'd data and fills got[], or
 * NULL with a message naming the file, the dataset and the expected shape. */
static void *read_ds(hid_t f, const char *file, const char *name, H5T_class_t cls, int rank, const hsize_t *want,
                     hsize_t *got, const char *shape_doc, int optional) {
    if (H5Lexists(f, name, H5P_DEFAULT) <= 0) {
        if (!optional) fprintf(stderr, "sbmbench op: %s: dataset %s missing (expected %s)\n", file, name, shape_doc);
        return NULL;
    }
    hid_t ds = H5Dopen2(f, name, H5P_DEFAULT);
    hid_t sp = ds >= 0 ? H5Dget_space(ds) : -1;
    hid_t ty = ds >= 0 ? H5Dget_type(ds) : -1;
    void *data = NULL;
    hsize_t d[8] = {0};
    int r = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    if (r >= 0 && r <= 8) H5Sget_simple_extent_dims(sp, d, NULL);
    int ok = ds >= 0 && ty >= 0 && H5Tget_class(ty) == cls && r == rank;
    for (int i = 0; ok && i < rank; i++) ok = want[i] == 0 || d[i] == want[i];
    if (!ok) {
        char have[128];
        dims_str(have, sizeof have, r < 0 ? 0 : r, d);
        fprintf(stderr, "sbmbench op: %s: dataset %s is %s %s, expected %s %s\n", file, name,
                ty >= 0 && H5Tget_class(ty) == H5T_FLOAT ? "float" : ty >= 0 && H5Tget_class(ty) == H5T_INTEGER ? "integer" : "of another type",
                have, cls == H5T_FLOAT ? "float32" : "int32", shape_doc);
    } else {
        size_t n = 1;
        for (int i = 0; i < rank; i++) n *= d[i], got[i] = d[i];
        data = malloc((n ? n : 1) * 4);
        if (H5Dread(ds, cls == H5T_FLOAT ? H5T_NATIVE_FLOAT : H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
            fprintf(stderr, "sbmbench op: %s: dataset %s could not be read (corrupt?)\n", file, name);
            free(data);
            data = NULL;
        }
    }
    if (ty >= 0) H5Tclose(ty);
    if (sp >= 0) H5Sclose(sp);
    if (ds >= 0) H5Dclose(ds);
    return data;
}

typedef struct {
    sb_run_config *cfg;
    const char *file;
    double density_weight;
    int64_t seed;
    int bad;
} attr_ctx;

/* An integer attribute's value, exactly (a seed past 2^53 is no double):
 * 0, or -1 when it cannot be read or is past int64 (HDF5 would clip it to
 * 2^63 - 1 silently). */
static int read_int64(hid_t a, int64_t *v) {
    const hid_t ty = H5Aget_type(a);
    const H5T_sign_t sign = ty >= 0 ? H5Tget_sign(ty) : H5T_SGN_ERROR;
    if (ty >= 0) H5Tclose(ty);
    if (sign == H5T_SGN_ERROR) return -1;
    if (sign == H5T_SGN_NONE) {
        uint64_t u = 0;
        if (H5Aread(a, H5T_NATIVE_UINT64, &u) < 0 || u > (uint64_t)INT64_MAX) return -1;
        *v = (int64_t)u;
        return 0;
    }
    return H5Aread(a, H5T_NATIVE_INT64, v) < 0 ? -1 : 0;
}

/* Attribute a's one value as JSON (a string or a number; integers also
 * exactly into *whole, with *is_whole set), or NULL with what is wrong in why. */
static cJSON *read_attr(hid_t a, int64_t *whole, int *is_whole, char *why, size_t whylen) {
    const H5T_class_t cls = sb_h5_attr_one_class(a, why, whylen); /* an array is refused */
    cJSON *v = NULL;
    double x = 0;
    char buf[256];
    if (cls == H5T_NO_CLASS) {
        /* why says what is wrong */
    } else if (cls == H5T_STRING) {
        if (sb_h5_attr_read_str(a, buf, sizeof buf)) snprintf(why, whylen, "cannot be read");
        else v = cJSON_CreateString(buf);
    } else if (cls == H5T_INTEGER) {
        if (read_int64(a, whole)) snprintf(why, whylen, "must be an integer from -2^63 to 2^63 - 1");
        else v = cJSON_CreateNumber((double)*whole), *is_whole = 1;
    } else if (cls == H5T_FLOAT) {
        if (H5Aread(a, H5T_NATIVE_DOUBLE, &x) < 0) snprintf(why, whylen, "cannot be read");
        else v = cJSON_CreateNumber(x);
    } else {
        snprintf(why, whylen, "expected a number or a string");
    }
    return v;
}

/* v as a message shows it */
static void value_str(char *buf, size_t len, const cJSON *v) {
    if (cJSON_IsString(v)) snprintf(buf, len, "'%.60s'", v->valuestring);
    else snprintf(buf, len, "%g", v->valuedouble);
}

/* Each root attribute is a manifest config key, seed, or density_weight. */
static herr_t on_attr(hid_t loc, const char *name, const H5A_info_t *info, void *vctx) {
    (void)info;
    attr_ctx *c = vctx;
    char err[256] = "", got[80] = "";
    int64_t whole = 0;
    int is_whole = 0;
    const hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    cJSON *v = a >= 0 ? read_attr(a, &whole, &is_whole, err, sizeof err) : NULL;
    if (a >= 0) H5Aclose(a);
    else snprintf(err, sizeof err, "cannot be read");
    if (v) value_str(got, sizeof got, v);
    if (!v) {
        /* err says why */
    } else if (!strcmp(name, "density_weight")) {
        /* handed to the call as a float: NaN, an infinity or a double past
         * FLT_MAX made every gradient NaN, and op still succeeded */
        const double x = v->valuedouble;
        if (cJSON_IsNumber(v) && isfinite(x) && fabs(x) <= FLT_MAX) c->density_weight = x;
        else snprintf(err, sizeof err, "must be a finite number within float range, not %s", got);
    } else if (!strcmp(name, "seed")) {
        /* the manifest's seed: a whole number, whose 64 bits key the random
         * streams; a fraction was cut silently, and NaN or a double past
         * int64 has no int64 value (the cast was undefined) */
        const double x = v->valuedouble;
        if (is_whole) c->seed = whole;
        else if (cJSON_IsNumber(v) && x == floor(x) && x >= -0x1p63 && x < 0x1p63) c->seed = (int64_t)x;
        else snprintf(err, sizeof err, "must be a whole number from -2^63 to 2^63 - 1, not %s", got);
    } else {
        const sb_config_key *k = sb_config_find_key(name);
        if (k && k->type == SB_KEY_BOOL && cJSON_IsNumber(v)) {
            cJSON *b = cJSON_CreateBool(v->valuedouble != 0);
            cJSON_Delete(v);
            v = b;
        }
        if (!k) snprintf(err, sizeof err, "unknown setting (see 'sbmbench run --help')");
        else if (!sb_config_set(c->cfg, k, v, err, sizeof err)) err[0] = 0; /* taken */
    }
    if (err[0]) {
        fprintf(stderr, "sbmbench op: %s: attribute %s: %s\n", c->file, name, err);
        c->bad = 1;
    }
    cJSON_Delete(v);
    return 0;
}

/* /edges (b,h,i,j) -> CSR (sorted, duplicates merged), checking every row. */
static int edges_to_csr(sb_backend *be, const int32_t *e, size_t E, int B, int H, int N, sb_csr *g, const char *file) {
    const size_t rows = (size_t)B * H * N;
    int64_t *cnt = calloc(rows + 1, sizeof(int64_t));
    for (size_t t = 0; t < E; t++) {
        const int32_t *x = e + 4 * t;
        if (x[0] < 0 || x[0] >= B || x[1] < 0 || x[1] >= H || x[2] < 0 || x[2] >= N || x[3] < 0 || x[3] >= N) {
            fprintf(stderr, "sbmbench op: %s: /edges row %zu = (%d,%d,%d,%d) is outside [B,H,N,N] = [%d,%d,%d,%d]\n",
                    file, t, x[0], x[1], x[2], x[3], B, H, N, N);
            free(cnt);
            return -1;
        }
        cnt[((size_t)x[0] * H + x[1]) * N + x[2] + 1]++;
    }
    for (size_t r = 0; r < rows; r++) cnt[r + 1] += cnt[r];
    sb_csr_reserve(be, g, B * H, N, (int64_t)E);
    int64_t *pos = malloc(sizeof(int64_t) * (rows + 1));
    memcpy(pos, cnt, sizeof(int64_t) * (rows + 1));
    for (size_t t = 0; t < E; t++) {
        const int32_t *x = e + 4 * t;
        g->col[pos[((size_t)x[0] * H + x[1]) * N + x[2]]++] = x[3];
    }
    int64_t w = 0;
    g->row_ptr[0] = 0;
    for (size_t r = 0; r < rows; r++) { /* insertion sort + merge each row */
        int64_t s = w;
        for (int64_t t = cnt[r]; t < cnt[r + 1]; t++) {
            int32_t v = g->col[t];
            int64_t j = w - 1;
            while (j >= s && g->col[j] > v) j--;
            if (j >= s && g->col[j] == v) continue;
            memmove(g->col + j + 2, g->col + j + 1, sizeof(int32_t) * (size_t)(w - j - 1));
            g->col[j + 1] = v;
            w++;
        }
        g->row_ptr[r + 1] = w;
    }
    g->nnz = w;
    free(cnt), free(pos);
    return 0;
}

/* Floats spanned by a tensor list laid out in one block. */
static size_t tensors_extent(const sb_param_desc *d, int n) {
    size_t end = 0;
    for (int i = 0; i < n; i++) {
        size_t cnt = 1;
        for (int j = 0; j < d[i].rank; j++) cnt *= (size_t)d[i].dims[j];
        if (d[i].offset + cnt > end) end = d[i].offset + cnt;
    }
    return end;
}

/* Read /params/<name> for each tensor of a layout into its place in dst. */
static int read_tensors(hid_t f, const char *file, const sb_param_desc *d, int n, float *dst) {
    for (int i = 0; i < n; i++) {
        char name[64], sh[64];
        hsize_t w[4], got[4];
        size_t cnt = 1;
        for (int j = 0; j < d[i].rank; j++) w[j] = (hsize_t)d[i].dims[j], cnt *= (size_t)d[i].dims[j];
        snprintf(name, sizeof name, "/params/%s", d[i].name);
        dims_str(sh, sizeof sh, d[i].rank, w);
        float *x = read_ds(f, file, name, H5T_FLOAT, d[i].rank, w, got, sh, 0);
        if (!x) return -1;
        memcpy(dst + d[i].offset, x, sizeof(float) * cnt);
        free(x);
    }
    return 0;
}

int sb_cmd_op(int argc, char **argv) {
    const char *model = NULL, *in = NULL, *out = NULL;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--in") && i + 1 < argc) in = argv[++i];
        else if (!strcmp(argv[i], "--out") && i + 1 < argc) out = argv[++i];
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: sbmbench op MODEL --in IN.h5 --out OUT.h5\n\n"
                   "Runs one attention call of MODEL (%s) forward and backward on the tensors\n"
                   "of IN.h5 and writes the output and every gradient to OUT.h5 (schema in the\n"
                   "README, 'Checking one attention call'). Dropout is off.\n", sb_attention_names());
            return 0;
        } else if (argv[i][0] != '-' && !model) model = argv[i];
        else {
            fprintf(stderr, "sbmbench op: unexpected argument '%s' (see 'sbmbench op --help')\n", argv[i]);
            return 2;
        }
    }
    if (!model || !in || !out) {
        fprintf(stderr, "sbmbench op: usage: sbmbench op MODEL --in IN.h5 --out OUT.h5\n");
        return 2;
    }
    const sb_attention_ops *ops = sb_attention_find(model);
    if (!ops) {
        fprintf(stderr, "sbmbench op: unknown model '%s' (known: %s)\n", model, sb_attention_names());
        return 2;
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    int rc = 2;
    sb_backend *be = sb_backend_cpu_create(0);
    float *q = NULL, *k = NULL, *v = NULL, *dout = NULL, *mask = NULL, *params = NULL, *dparams = NULL;
    float *o = NULL, *dq = NULL, *dk = NULL, *dv = NULL, *dens = NULL, *draws = NULL;
    int32_t *edges = NULL;
    void *state = NULL;
    sb_csr graph = {0};
    hid_t wf = -1;
    char tmp[4096];
    tmp[0] = 0;
    hid_t f = H5Fopen(in, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) ERR("%s: cannot open as HDF5", in);
    hsize_t shp[4] = {0}, want0[4] = {0}, got[4];
    q = read_ds(f, in, "/q", H5T_FLOAT, 4, want0, shp, "[B,H,N,D]", 0);
    if (!q) goto fail;
    const int B = (int)shp[0], H = (int)shp[1], N = (int)shp[2], D = (int)shp[3];
    char doc[96];
    snprintf(doc, sizeof doc, "[B,H,N,D] = [%d,%d,%d,%d]", B, H, N, D);
    if (!(k = read_ds(f, in, "/k", H5T_FLOAT, 4, shp, got, doc, 0)) ||
        !(v = read_ds(f, in, "/v", H5T_FLOAT, 4, shp, got, doc, 0)) ||
        !(dout = read_ds(f, in, "/dout", H5T_FLOAT, 4, shp, got, doc, 0)))
        goto fail;
    hsize_t mshape[2] = {shp[0], shp[2]};
    snprintf(doc, sizeof doc, "[B,N] = [%d,%d]", B, N);
    mask = read_ds(f, in, "/mask", H5T_FLOAT, 2, mshape, got, doc, 1);
    if (!mask && H5Lexists(f, "/mask", H5P_DEFAULT) > 0) goto fail;

    sb_run_config cfg;
    sb_config_init(&cfg);
    cfg.n_heads = H, cfg.d_head = D, cfg.seq_len = N, cfg.max_len = N;
    attr_ctx ac = {&cfg, in, 0.0, 1, 0};
    hsize_t idx = 0;
    H5Aiterate2(f, H5_INDEX_NAME, H5_ITER_INC, &idx, on_attr, &ac);
    if (ac.bad) goto fail;
    cfg.n_heads = H, cfg.d_head = D; /* the tensors decide these */
    sb_attn_config acfg = sb_config_attn(&cfg);
    acfg.attn_dropout = 0.0f;
    const size_t np = ops->param_count(&acfg);
    params = calloc(np + 1, sizeof(float));
    dparams = calloc(np + 1, sizeof(float));
    sb_param_desc desc[8];
    int nd = ops->param_layout ? ops->param_layout(&acfg, desc) : 0;
    if (read_tensors(f, in, desc, nd, params)) goto fail;
    /* random draws the call would make (Reformer's rotations): read, not drawn */
    sb_param_desc ddesc[8];
    int ndraw = ops->draws_layout ? ops->draws_layout(&acfg, N, ddesc) : 0;
    if (ndraw) {
        draws = calloc(tensors_extent(ddesc, ndraw) + 1, sizeof(float));
        if (read_tensors(f, in, ddesc, ndraw, draws)) goto fail;
    }
    hsize_t eshape[2] = {0, 4};
    edges = read_ds(f, in, "/edges", H5T_INTEGER, 2, eshape, got, "[E,4] of (b,h,i,j)", 1);
    if (!edges && H5Lexists(f, "/edges", H5P_DEFAULT) > 0) goto fail;
    if (edges && edges_to_csr(be, edges, (size_t)got[0], B, H, N, &graph, in)) goto fail;

    const size_t sz = (size_t)B * H * N * D;
    o = calloc(sz, sizeof(float)), dq = calloc(sz, sizeof(float)), dk = calloc(sz, sizeof(float)), dv = calloc(sz, sizeof(float));
    state = ops->state_create(be, &acfg, B, N, 1);
    sb_attn_call call = {.B = B, .H = H, .N = N, .D = D, .q = q, .k = k, .v = v, .key_mask = mask, .out = o,
                         .training = 1, .rng = sb_rng_make((uint64_t)ac.seed, SB_RNG_ATTN_DROPOUT, 0, 0, 0, 0),
                         .rng_attn = sb_rng_make((uint64_t)ac.seed, SB_RNG_ATTN, 0, 0, 0, 0),
                         .fixed_graph = edges ? &graph : NULL, .fixed_draws = draws};
    ops->forward(be, state, &acfg, params, &call);
    sb_attn_grads gr = {.dq = dq, .dk = dk, .dv = dv, .dout = dout, .density_weight = (float)ac.density_weight};
    ops->backward(be, state, &acfg, params, dparams, &call, &gr);
    if (ops->density) {
        dens = calloc((size_t)B * H, sizeof(float));
        ops->density(state, dens);
    }

    char terr[320];
    if (sb_tmp_name(tmp, sizeof tmp, out, terr, sizeof terr)) ERR("%s", terr);
    wf = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (wf < 0) ERR("%s: cannot create", tmp);
    int bad = sb_h5_write(wf, "/out", H5T_NATIVE_FLOAT, o, 4, shp) || sb_h5_write(wf, "/dq", H5T_NATIVE_FLOAT, dq, 4, shp) ||
              sb_h5_write(wf, "/dk", H5T_NATIVE_FLOAT, dk, 4, shp) || sb_h5_write(wf, "/dv", H5T_NATIVE_FLOAT, dv, 4, shp);
    for (int i = 0; !bad && i < nd; i++) {
        char name[64];
        hsize_t w[4];
        for (int j = 0; j < desc[i].rank; j++) w[j] = (hsize_t)desc[i].dims[j];
        snprintf(name, sizeof name, "/grads/%s", desc[i].name);
        bad = sb_h5_write(wf, name, H5T_NATIVE_FLOAT, dparams + desc[i].offset, desc[i].rank, w);
    }
    hsize_t bh[2] = {(hsize_t)B, (hsize_t)H};
    if (!bad && dens) bad = sb_h5_write(wf, "/density", H5T_NATIVE_FLOAT, dens, 2, bh);
    if (H5Fclose(wf) < 0) bad = 1;
    wf = -1;
    if (bad) ERR("%s: write failed", out);
    char why[4400];
    if (sb_commit_written(tmp, out, why, sizeof why)) ERR("%s", why);
    tmp[0] = 0;
    rc = 0;
fail:
    if (wf >= 0) H5Fclose(wf);
    if (tmp[0]) unlink(tmp);
    if (f >= 0) H5Fclose(f);
    if (state) ops->state_destroy(be, state);
    sb_csr_free(be, &graph);
    free(q), free(k), free(v), free(dout), free(mask), free(params), free(dparams);
    free(o), free(dq), free(dk), free(dv), free(dens), free(edges), free(draws);
    sb_backend_destroy(be);
    return rc;
}
