#include "experiments/table.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "experiments/util.h"

char *sb_strdupf(const char *fmt, ...) {
    va_list ap, aq;
    va_start(ap, fmt);
    va_copy(aq, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = malloc((size_t)n + 1);
    vsnprintf(s, (size_t)n + 1, fmt, aq);
    va_end(aq);
    return s;
}

void sb_strcatf(char **s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    size_t len = *s ? strlen(*s) : 0;
    *s = realloc(*s, len + (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(*s + len, (size_t)n + 1, fmt, ap);
    va_end(ap);
}

/* Split "a|>b|c" (sep '|') into names and alignments; returns the count. */
static int split_head(const char *head, char sep, char ***names, char **align) {
    int n = 1;
    for (const char *p = head; *p; p++) n += *p == sep;
    *names = calloc((size_t)n, sizeof(char *));
    if (align) *align = calloc((size_t)n + 1, 1);
    const char *p = head;
    for (int i = 0; i < n; i++) {
        const char *e = strchr(p, sep);
        size_t len = e ? (size_t)(e - p) : strlen(p);
        int right = align && *p == '>';
        if (align) (*align)[i] = right ? 'r' : 'l';
        (*names)[i] = sb_strdupf("%.*s", (int)(len - right), p + right);
        p += len + 1;
    }
    return n;
}

void sb_table_init(sb_table *t, const char *title, const char *head, const char *csv_head) {
    memset(t, 0, sizeof *t);
    t->title = sb_strdupf("%s", title);
    t->ncols = split_head(head, '|', &t->head, &t->align);
    t->csv_ncols = split_head(csv_head, ',', &t->csv_head, NULL);
}

static void free_strings(char **s, size_t n) {
    for (size_t i = 0; s && i < n; i++) free(s[i]);
    free(s);
}

void sb_table_free(sb_table *t) {
    free(t->title), free(t->note), free(t->align);
    free_strings(t->head, (size_t)t->ncols);
    free_strings(t->cells, (size_t)t->nrows * t->ncols);
    free_strings(t->csv_head, (size_t)t->csv_ncols);
    free_strings(t->csv_cells, (size_t)t->csv_nrows * t->csv_ncols);
    memset(t, 0, sizeof *t);
}

void sb_table_set_note(sb_table *t, const char *note) {
    free(t->note);
    t->note = note ? sb_strdupf("%s", note) : NULL;
}

static void append_row(char ***cells, int *nrows, int ncols, const char *const *row) {
    *cells = realloc(*cells, sizeof(char *) * (size_t)(*nrows + 1) * ncols);
    for (int c = 0; c < ncols; c++) (*cells)[(size_t)*nrows * ncols + c] = sb_strdupf("%s", row[c] ? row[c] : "");
    (*nrows)++;
}

void sb_table_add_row(sb_table *t, const char *const *cells) { append_row(&t->cells, &t->nrows, t->ncols, cells); }
void sb_table_add_csv_row(sb_table *t, const char *const *cells) {
    append_row(&t->csv_cells, &t->csv_nrows, t->csv_ncols, cells);
}

/* A growing string. */
typedef struct {
    char *s;
    size_t len, cap;
} buf;

static void put(buf *b, const char *text, size_t n) {
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->s = realloc(b->s, b->cap);
    }
    memcpy(b->s + b->len, text, n);
    b->len += n;
    b->s[b->len] = 0;
}
static void puts_(buf *b, const char *text) { put(b, text, strlen(text)); }

char *sb_table_markdown(const sb_table *t) {
    buf b = {0};
    puts_(&b, "## ");
    puts_(&b, t->title);
    puts_(&b, "\n\n|");
    for (int c = 0; c < t->ncols; c++) puts_(&b, " "), puts_(&b, t->head[c]), puts_(&b, " |");
    puts_(&b, "\n|");
    for (int c = 0; c < t->ncols; c++) puts_(&b, t->align[c] == 'r' ? "---:|" : "---|");
    puts_(&b, "\n");
    for (int r = 0; r < t->nrows; r++) {
        puts_(&b, "|");
        for (int c = 0; c < t->ncols; c++) puts_(&b, " "), puts_(&b, t->cells[(size_t)r * t->ncols + c]), puts_(&b, " |");
        puts_(&b, "\n");
    }
    if (t->nrows == 0) puts_(&b, "\n(no completed runs)\n");
    if (t->note) puts_(&b, "\n"), puts_(&b, t->note), puts_(&b, "\n");
    return b.s;
}

/* Display text to LaTeX: escape specials, translate the symbols we use. */
static void put_latex(buf *b, const char *s) {
    static const struct {
        const char *from, *to;
    } map[] = {{"±", "$\\pm$"}, {"†", "$^\\dagger$"}, {"—", "--"}, {"λ", "$\\lambda$"}, {"×", "$\\times$"}, {"%", "\\%"}, {"_", "\\_"},
               {"&", "\\&"},    {"#", "\\#"}, {"$", "\\$"},        {"{", "\\{"},         {"}", "\\}"}, {"^", "\\^{}"},
               {"~", "\\~{}"},  {"\\", "\\textbackslash{}"}};
    int bold = 0;
    while (*s) {
        if (s[0] == '*' && s[1] == '*') {
            puts_(b, bold ? "}" : "\\textbf{");
            bold = !bold;
            s += 2;
            continue;
        }
        size_t i = 0, n = sizeof map / sizeof map[0];
        while (i < n && strncmp(s, map[i].from, strlen(map[i].from)) != 0) i++;
        if (i < n) {
            puts_(b, map[i].to);
            s += strlen(map[i].from);
        } else {
            put(b, s++, 1);
        }
    }
    if (bold) puts_(b, "}");
}

char *sb_table_latex(const sb_table *t) {
    buf b = {0};
    puts_(&b, "% generated by sbmbench report; needs \\usepackage{booktabs}\n\\begin{table}[t]\n\\centering\n\\caption{");
    put_latex(&b, t->title);
    puts_(&b, "}\n\\begin{tabular}{");
    puts_(&b, t->align);
    puts_(&b, "}\n\\toprule\n");
    for (int c = 0; c < t->ncols; c++) {
        if (c) puts_(&b, " & ");
        put_latex(&b, t->head[c]);
    }
    puts_(&b, " \\\\\n\\midrule\n");
    for (int r = 0; r < t->nrows; r++) {
        for (int c = 0; c < t->ncols; c++) {
            if (c) puts_(&b, " & ");
            put_latex(&b, t->cells[(size_t)r * t->ncols + c]);
        }
        puts_(&b, " \\\\\n");
    }
    puts_(&b, "\\bottomrule\n\\end{tabular}\n");
    if (t->note) puts_(&b, "\\par\\smallskip{\\footnotesize "), put_latex(&b, t->note), puts_(&b, "}\n");
    puts_(&b, "\\end{table}\n");
    return b.s;
}

static void put_csv_field(buf *b, const char *s) {
    if (!strpbrk(s, ",\"\n")) {
        puts_(b, s);
        return;
    }
    puts_(b, "\"");
    for (; *s; s++) {
        if (*s == '"') put(b, "\"", 1); /* a quote inside a quoted field is doubled */
        put(b, s, 1);
    }
    puts_(b, "\"");
}

char *sb_table_csv(const sb_table *t) {
    buf b = {0};
    for (int c = 0; c < t->csv_ncols; c++) {
        if (c) puts_(&b, ",");
        put_csv_field(&b, t->csv_head[c]);
    }
    puts_(&b, "\n");
    for (int r = 0; r < t->csv_nrows; r++) {
        for (int c = 0; c < t->csv_ncols; c++) {
            if (c) puts_(&b, ",");
            put_csv_field(&b, t->csv_cells[(size_t)r * t->csv_ncols + c]);
        }
        puts_(&b, "\n");
    }
    return b.s;
}

int sb_table_write(const sb_table *t, const char *dir, const char *name, char *err, size_t errlen) {
    char *(*render[3])(const sb_table *) = {sb_table_markdown, sb_table_csv, sb_table_latex};
    const char *ext[3] = {"md", "csv", "tex"};
    for (int i = 0; i < 3; i++) {
        char path[4096];
        sb_path(path, sizeof path, "%s/%s.%s", dir, name, ext[i]);
        char *text = render[i](t);
        int rc = sb_write_file_atomic(path, text, err, errlen);
        free(text);
        if (rc) return -1;
    }
    return 0;
}
