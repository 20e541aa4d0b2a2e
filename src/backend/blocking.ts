// Block sizes of f32_gemm (assembly/gemm.ts), shared with the front end, which sizes the
// kernel's workspace from them (src/backend/workspace.ts).
//
// This file is compiled twice: by asc (imported from assembly/) and by tsc. It must stay
// inside the common subset of both languages: plain `export const NAME = <integer>;` lines.

/** Rows of the GEMM register tile. */
export const GEMM_MR = 4;
/** Columns of the GEMM register tile (two f32x4). */
export const GEMM_NR = 8;

// Chosen by measuring 512^2 and 1024^2 products on a Zen 3 core (32 KiB L1d, 512 KiB L2)
// over eleven combinations of KC 128..512, MC 32..256 and NC 256..1024: KC = 128 lost 5-10%
// (C is read and written once per K slice), the others were within 4%, and this one came out
// on top for both SIMD builds.

/** Depth of a K slice: one KC x 8 B panel (16 KiB) stays in L1 while A panels stream by. */
export const GEMM_KC = 512;
/** Rows of an A block: MC x KC floats (128 KiB) stay in L2. */
export const GEMM_MC = 64;
/** Columns of a B block: KC x NC floats (1 MiB), streamed from L3 once per A block. */
export const GEMM_NC = 512;
