// The page <-> engine-worker protocol, in one place. Every request is
// {id, type, args}; every reply is {id, ok: true, result} or {id, ok: false,
// error}. Progress events during a request are {id, event, data}.
export const Requests = Object.freeze({
  /** -> {variant, reason, threads, hardwareConcurrency, simd} */
  INFO: 'info',
  /** {image: {data: Float32Array, shape: [h, w, c]}, kernel: {data, shape: [kh, kw, 1, 1]}, padding, strides}
   *  -> {data: Float32Array, shape} : a 2-D convolution of every channel by one kernel, summed (course section 2). */
  CONVOLVE: 'convolve',
});
