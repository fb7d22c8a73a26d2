/* A small table type rendered three ways: Markdown and LaTeX (booktabs) from
 * the display cells, and CSV from a separate view of plain numbers (a CSV
 * reader wants "99.9" and "0.05" in two columns, not "99.9 ± 0.05").
 *
 * Display cells are UTF-8 and may use ±, —, λ, % and **bold**; the LaTeX
 * renderer translates them. */
#ifndef SB_TABLE_H
#define SB_TABLE_H
#include <stddef.h>

typedef struct {
    char *title;      /* Markdown heading and LaTeX caption */
    char *note;       /* text under the table (how to read it), may be NULL */
    int ncols, nrows;
    char **head;      /* [ncols] */
    char *align;      /* [ncols] 'l' or 'r' */
    char **cells;     /* [nrows * ncols] */
    int csv_ncols, csv_nrows;
    char **csv_head;  /* [csv_ncols] */
    char **csv_cells; /* [csv_nrows * csv_ncols] */
} sb_table;

/* head: column names separated by '|', a leading '>' right-aligns a column;
 * csv_head: the CSV view's column names separated by ','. */
void sb_table_init(sb_table *t, const char *title, const char *head, const char *csv_head);
void sb_table_free(sb_table *t);
void sb_table_set_note(sb_table *t, const char *note);
/* Append a display row (ncols cells) or a CSV row (csv_ncols cells). */
void sb_table_add_row(sb_table *t, const char *const *cells);
void sb_table_add_csv_row(sb_table *t, const char *const *cells);

char *sb_table_markdown(const sb_table *t); /* malloc'd */
char *sb_table_latex(const sb_table *t);
char *sb_table_csv(const sb_table *t);
/* DIR/NAME.md, .csv, .tex, each written atomically. 0 on success. */
int sb_table_write(const sb_table *t, const char *dir, const char *name, char *err, size_t errlen);

/* printf into a malloc'd string. */
char *sb_strdupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* printf onto the end of a malloc'd string (*s may be NULL). */
void sb_strcatf(char **s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
