/* ListOps (LRA lra_benchmarks/data/listops.py): nested expressions over the
 * digits 0-9 with the operators [MIN [MAX [MED [SM, each closed by ']'.
 * Shared by the generator and the TSV converter: the token vocabulary and
 * the tree value. */
#ifndef SB_LISTOPS_H
#define SB_LISTOPS_H

#include <stdint.h>

/* Token ids: digits 0-9 -> 1..10, operators 11..14, ']' 15, anything else 16
 * (OOV), 0 padding. The reference's ids come from iterating a Python set
 * (hash-seed dependent); any fixed bijection onto 1..15 is equivalent. */
enum {
    SB_LISTOPS_MIN = 11, SB_LISTOPS_MAX = 12, SB_LISTOPS_MED = 13, SB_LISTOPS_SM = 14,
    SB_LISTOPS_CLOSE = 15, SB_LISTOPS_OOV = 16, SB_LISTOPS_VOCAB = 17
};

/* Id of one whitespace-separated token of the TSV's Source column; 0 for
 * the parentheses the reference's pipeline strips. */
int32_t sb_listops_token_id(const char *tok, int len);
/* Source text of an id (1..15). */
const char *sb_listops_token_text(int32_t id);
/* Value of an operator over its arguments (reference to_value: MED is
 * int(np.median), averaging the middle pair when n is even; SM is sum % 10). */
int sb_listops_apply(int32_t op, const int *args, int n);
/* Write the tree held as ids (no parentheses) in the release's fully
 * parenthesised form: the reference's left-nested tuples
 * ((((op, c0), c1), ...), ']') printed as '( ' + left + ' ' + right + ' )'.
 * Returns the characters written (excluding NUL), or -1 if buf is too small
 * or the ids are not one well-formed tree. */
int sb_listops_to_source(const int32_t *ids, int n, char *buf, int buflen);

#endif
