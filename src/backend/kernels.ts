// The closed set of compute primitives, exactly as the WebAssembly module exports them.
//
// Two implementations exist and both must satisfy this interface, so a missing kernel is a
// compile error, not a run-time "kernel not registered":
//   - the AssemblyScript SIMD kernels in assembly/ (compiled to wasm, plain and relaxed SIMD);
//   - the TypeScript reference in src/backend/reference/ (obvious loops, float64 accumulation).
//
// ABI rules, which every kernel keeps:
//   - Only pointers and numbers cross the boundary. A pointer (`Ptr`) is a byte offset into the
//     heap; f32 buffers need only 4-byte alignment (kernels use unaligned v128 loads).
//   - Pointer 0 means "absent" for optional buffers (bias, dlogits, momentum slots, ...).
//   - Layouts are row-major; images are NHWC; conv filters are HWIO [KH, KW, C, CO];
//     depthwise filters are [KH, KW, C, M] with output channel c * M + m.
//   - Outputs are overwritten, never accumulated into, unless a `beta` argument says otherwise.
//   - "In place" means output pointer == input pointer; kernels that allow it say so.
//   - A kernel reads and writes only the elements its sizes describe, plus the `work` scratch
//     buffer whose size comes from src/backend/workspace.ts. Callers validate sizes first.
//   - Booleans are 0 or 1. Op codes come from src/backend/opcodes.ts.

/** A byte offset into the kernel heap. */
export type Ptr = number;

export interface Kernels {
  // ---- GEMM (assembly/gemm.ts) -------------------------------------------------------------
  /**
   * C[M,N] = act(alpha * op(A) * op(B) + beta * C + bias[N]).
   * op(A) is A[M,K] (lda >= K) or, with transA, A^T where A is [K,M] (lda >= M); likewise B is
   * [K,N] (ldb >= N) or [N,K] with transB (ldb >= K). beta == 0 ignores C's old contents (NaNs
   * included). bias may be 0. act is an ACT_* code, actAlpha its alpha (leaky relu, elu).
   * work: gemmWorkspaceBytes() bytes.
   */
  f32_gemm(
    transA: number, transB: number, M: number, N: number, K: number,
    alpha: number, a: Ptr, lda: number, b: Ptr, ldb: number,
    beta: number, c: Ptr, ldc: number,
    bias: Ptr, act: number, actAlpha: number, work: Ptr,
  ): void;

  // ---- Convolution (assembly/conv.ts) --------------------------------------------------------
  // Geometry shared by the conv and pooling kernels: input [N,H,W,C], output [N,OH,OW,*];
  // output pixel (oy, ox) reads input rows oy*strideH - padTop + ky*dilationH (likewise x).
  // Taps that fall outside the input read zeros. The caller computes OH/OW and padding
  // ('same' / 'valid') in src/backend/geometry.ts.

  /** y[N,OH,OW,CO] = act(conv(x, w) + bias). bias may be 0. work: conv2dWorkspaceBytes(). */
  f32_conv2d(
    x: Ptr, w: Ptr, bias: Ptr, y: Ptr,
    N: number, H: number, W: number, C: number, KH: number, KW: number, CO: number,
    strideH: number, strideW: number, dilationH: number, dilationW: number,
    padTop: number, padLeft: number, OH: number, OW: number,
    act: number, actAlpha: number, work: Ptr,
  ): void;
  /** dx[N,H,W,C] = gradient of conv with respect to x, given dy[N,OH,OW,CO]. */
  f32_conv2d_backward_data(
    dy: Ptr, w: Ptr, dx: Ptr,
    N: number, H: number, W: number, C: number, KH: number, KW: number, CO: number,
    strideH: number, strideW: number, dilationH: number, dilationW: number,
    padTop: number, padLeft: number, OH: number, OW: number, work: Ptr,
  ): void;
  /** dw[KH,KW,C,CO] = gradient of conv with respect to w, given x and dy. */
  f32_conv2d_backward_filter(
    x: Ptr, dy: Ptr, dw: Ptr,
    N: number, H: number, W: number, C: number, KH: number, KW: number, CO: number,
    strideH: number, strideW: number, dilationH: number, dilationW: number,
    padTop: number, padLeft: number, OH: number, OW: number, work: Ptr,
  ): void;
  /** y[N,OH,OW,C*M] = act(depthwise(x, w[KH,KW,C,M]) + bias[C*M]). bias may be 0. */
  f32_depthwise_conv2d(
    x: Ptr, w: Ptr, bias: Ptr, y: Ptr,
    N: number, H: number, W: number, C: number, KH: number, KW: number, M: number,
    strideH: number, strideW: number, dilationH: number, dilationW: number,
    padTop: number, padLeft: number, OH: number, OW: number,
    act: number, actAlpha: number,
  ): void;
  f32_depthwise_conv2d_backward_data(
    dy: Ptr, w: Ptr, dx: Ptr,
    N: number, H: number, W: number, C: number, KH: number, KW: number, M: number,
    strideH: number, strideW: number, dilationH: number, dilationW: number,
    padTop: number, padLeft: number, OH: number, OW: number,
  ): void;
  f32_depthwise_conv2d_backward_filter(
    x: Ptr, dy: Ptr, dw: Ptr,
    N: number, H: number, W: number, C: number, KH: number, KW: number, M: number,
    strideH: number, strideW: number, dilationH: number, dilationW: number,
    padTop: number, padLeft: number, OH: number, OW: number,
  ): void;

  // ---- Pooling (assembly/pool.ts) -------------------------------------------------------------
  // Windows are clipped to the input: padding never wins a max and is not counted in an average
  // (TensorFlow's convention). A window with no input element gives 0.
  f32_maxpool2d(
    x: Ptr, y: Ptr, N: number, H: number, W: number, C: number, KH: number, KW: number,
    strideH: number, strideW: number, padTop: number, padLeft: number, OH: number, OW: number,
  ): void;
  /** dx = routes each dy to the first maximum of its window; overlapping windows add up. */
  f32_maxpool2d_backward(
    x: Ptr, dy: Ptr, dx: Ptr, N: number, H: number, W: number, C: number,
    KH: number, KW: number, strideH: number, strideW: number,
    padTop: number, padLeft: number, OH: number, OW: number,
  ): void;
  f32_avgpool2d(
    x: Ptr, y: Ptr, N: number, H: number, W: number, C: number, KH: number, KW: number,
    strideH: number, strideW: number, padTop: number, padLeft: number, OH: number, OW: number,
  ): void;
  f32_avgpool2d_backward(
    dy: Ptr, dx: Ptr, N: number, H: number, W: number, C: number, KH: number, KW: number,
    strideH: number, strideW: number, padTop: number, padLeft: number, OH: number, OW: number,
  ): void;

  // ---- Elementwise (assembly/elementwise.ts) --------------------------------------------------
  /** y[i] = f(x[i]) for an ACT_* / UNARY_* code. In place allowed. */
  f32_unary(op: number, x: Ptr, y: Ptr, n: number, alpha: number): void;
  /** dx[i] = dy[i] * f'(x[i]); y = f(x) is given too (sigmoid, tanh, exp use it). dx may alias dy. */
  f32_unary_backward(op: number, x: Ptr, y: Ptr, dy: Ptr, dx: Ptr, n: number, alpha: number): void;
  /**
   * out[i] = a[i] op b[i % bn], i < n, where bn divides n: bn == n is same-shape, bn == 1 a
   * scalar, otherwise b broadcasts over the trailing axis (a bias). out may alias a, or b when
   * bn == n.
   */
  f32_binary(op: number, a: Ptr, b: Ptr, out: Ptr, n: number, bn: number): void;
  /**
   * da[i] = dout[i] * d(a op b)/da and db[j] = sum over i % bn == j of dout[i] * d(a op b)/db.
   * da or db may be 0 to skip it. da may alias dout.
   */
  f32_binary_backward(
    op: number, a: Ptr, b: Ptr, dout: Ptr, da: Ptr, db: Ptr, n: number, bn: number,
  ): void;
  /** y[i] = x[i] * scale + shift. In place allowed. */
  f32_scale_shift(x: Ptr, y: Ptr, n: number, scale: number, shift: number): void;
  /** y[i] = value. */
  f32_fill(y: Ptr, n: number, value: number): void;
  /** Row-wise softmax of x[rows, cols]. In place allowed. */
  f32_softmax(x: Ptr, y: Ptr, rows: number, cols: number): void;
  /** dx = y * (dy - sum(dy * y)) per row, y the softmax output. dx may alias dy. */
  f32_softmax_backward(y: Ptr, dy: Ptr, dx: Ptr, rows: number, cols: number): void;

  // ---- Reductions and losses (assembly/reduce.ts) ---------------------------------------------
  /** y[o, i] = reduce over a of x[o, a, i], for x viewed as [outer, axis, inner]. */
  f32_reduce(op: number, x: Ptr, y: Ptr, outer: number, axis: number, inner: number): void;
  /** dx[o, a, i] from dy[o, i]; max/min route to the first extremum, found again from x and y. */
  f32_reduce_backward(
    op: number, x: Ptr, y: Ptr, dy: Ptr, dx: Ptr, outer: number, axis: number, inner: number,
  ): void;
  /** Sum of x[i]^2 over n elements, accumulated in f64 (global-norm clipping). */
  f32_sum_squares(x: Ptr, n: number): number;
  /**
   * Per row r of logits[rows, cols] and target probabilities labels[rows, cols]:
   * loss[r] = -sum_c labels * log_softmax(logits), computed stably;
   * dlogits[r, c] = (softmax * sum_c labels - labels) * gradScale, skipped when dlogits is 0.
   */
  f32_softmax_cross_entropy(
    logits: Ptr, labels: Ptr, loss: Ptr, dlogits: Ptr, rows: number, cols: number,
    gradScale: number,
  ): void;
  /**
   * As above with integer class labels (i32[rows]). A label outside [0, cols) gives a NaN loss
   * and a NaN gradient row; the return value counts such labels.
   */
  f32_sparse_softmax_cross_entropy(
    logits: Ptr, labels: Ptr, loss: Ptr, dlogits: Ptr, rows: number, cols: number,
    gradScale: number,
  ): number;

  // ---- Optimizer updates, in place over n parameters (assembly/optim.ts) -----------------------
  // Each follows Keras 3's update rule for the optimizer of the same name.
  /**
   * SGD. With momentum > 0 (v != 0): v = momentum * v - lr * g; w += v, or with nesterov
   * w += momentum * v - lr * g. Without momentum: w -= lr * g. weightDecay is decoupled:
   * w -= lr * weightDecay * w first.
   */
  f32_sgd(
    w: Ptr, g: Ptr, v: Ptr, n: number, lr: number, momentum: number, nesterov: number,
    weightDecay: number,
  ): void;
  /**
   * Adam / AdamW at step t >= 1: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
   * w -= lr * sqrt(1-b2^t) / (1-b1^t) * m / (sqrt(v) + epsilon). weightDecay (AdamW) is
   * decoupled: w -= lr * weightDecay * w first.
   */
  f32_adam(
    w: Ptr, g: Ptr, m: Ptr, v: Ptr, n: number, lr: number, beta1: number, beta2: number,
    epsilon: number, step: number, weightDecay: number,
  ): void;
  /**
   * RMSprop: ms = rho ms + (1-rho) g^2; centered: mg = rho mg + (1-rho) g, denom = ms - mg^2,
   * else denom = ms; inc = lr * g / sqrt(denom + epsilon); with momentum > 0 (mom != 0):
   * mom = momentum * mom + inc, w -= mom; else w -= inc. mg is 0 unless centered.
   */
  f32_rmsprop(
    w: Ptr, g: Ptr, ms: Ptr, mom: Ptr, mg: Ptr, n: number, lr: number, rho: number,
    momentum: number, epsilon: number, centered: number,
  ): void;
  /** Adagrad: acc += g^2; w -= lr * g / sqrt(acc + epsilon). */
  f32_adagrad(w: Ptr, g: Ptr, acc: Ptr, n: number, lr: number, epsilon: number): void;
}

/** The kernel names, for tables that must cover every kernel. */
export type KernelName = keyof Kernels;

const KERNEL_SET: Record<KernelName, true> = {
  f32_gemm: true,
  f32_conv2d: true,
  f32_conv2d_backward_data: true,
  f32_conv2d_backward_filter: true,
  f32_depthwise_conv2d: true,
  f32_depthwise_conv2d_backward_data: true,
  f32_depthwise_conv2d_backward_filter: true,
  f32_maxpool2d: true,
  f32_maxpool2d_backward: true,
  f32_avgpool2d: true,
  f32_avgpool2d_backward: true,
  f32_unary: true,
  f32_unary_backward: true,
  f32_binary: true,
  f32_binary_backward: true,
  f32_scale_shift: true,
  f32_fill: true,
  f32_softmax: true,
  f32_softmax_backward: true,
  f32_reduce: true,
  f32_reduce_backward: true,
  f32_sum_squares: true,
  f32_softmax_cross_entropy: true,
  f32_sparse_softmax_cross_entropy: true,
  f32_sgd: true,
  f32_adam: true,
  f32_rmsprop: true,
  f32_adagrad: true,
};

/** Every kernel name; the Record above makes the compiler check that none is missing. */
export const KERNEL_NAMES = Object.keys(KERNEL_SET) as KernelName[];
