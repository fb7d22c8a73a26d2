/* PLACEHOLDER: being implemented (issue #4). */
#include "core/attention.h"
const sb_attention_ops sb_attention_reformer = {.name = "reformer"};
