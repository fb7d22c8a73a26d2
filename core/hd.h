/* SB_HD marks arithmetic written once for both the C (CPU) and CUDA backends. */
#ifndef SB_HD_H
#define SB_HD_H
#ifdef __CUDACC__
#define SB_HD __host__ __device__
#else
#define SB_HD
#endif
#endif
