/* SBM attention's time profile, for benchmarks: wall seconds spent in each
 * part since the last reset, summed over calls (all threads' work counted
 * once: the parts run one after another). */
#ifndef SB_SBM_ATTENTION_H
#define SB_SBM_ATTENTION_H

enum {
    SB_SBM_PART_MEMBERSHIPS,  /* MLP, memberships, block matrix (forward) */
    SB_SBM_PART_SAMPLING,     /* graph sampling into the CSR */
    SB_SBM_PART_ATTENTION,    /* SDDMM + edge softmax + SpMM, forward and backward */
    SB_SBM_PART_STE,          /* straight-through estimator: O(m k) SpMMs and what follows */
    SB_SBM_PART_COUNT
};

extern const char *const sb_sbm_part_names[SB_SBM_PART_COUNT];
void sb_sbm_profile_reset(void);
void sb_sbm_profile_get(double seconds[SB_SBM_PART_COUNT]);

#endif
