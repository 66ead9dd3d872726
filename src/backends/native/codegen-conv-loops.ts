// The C a conv kernel shares with its siblings: loop openings common to its layouts (channels padded to
// whole vectors, codegen-conv.ts; pixels packed into the lanes, codegen-pixel-pack.ts), and the arguments
// the direct and Winograd kernels (codegen-winograd.ts) both take.

/** The opening of a conv block's loop over kernel rows: input row iy (rows outside the image skipped), the input
 *  from pixel x0 on, and the packed weights of that kernel row. */
export function convRowLoop(K: number, PAD: number, H: number, W: number, CI: number, COP: number, x0: string): string[] {
  return [
    `  for (int ky = 0; ky < ${K}; ky++) {`,
    ...(K > 1 ? [`    const int iy = yy + ky - ${PAD};`, `    if (iy < 0 || iy >= ${H}) continue;`] : ['    const int iy = yy;']),
    `    const float* restrict xr = xi + (long)iy * ${W * CI} + (long)(${x0}) * ${CI};`,
    `    const float* restrict wk = wp + ky * ${K * CI * COP};`,
  ];
}

/** The opening of a conv block's loop over input channels at kernel column kx: the weight row, and the next block's
 *  input (`ahead` pixels on) prefetched, spread over this block's loop: with pixels of a cache line or more (144
 *  channels = 9 lines) the hardware prefetcher falls behind and a 1×1 conv ran at half speed. */
export function convChannelLoop(kx: number, CI: number, COP: number, ahead: number): string[] {
  return [
    `    for (int i = 0; i < ${CI}; i++) {`,
    `      const float* restrict wi = wk + (${kx * CI} + i) * ${COP};`,
    ...(kx === 0 && CI >= 16 ? [`      __builtin_prefetch(xr + ${ahead * CI} + i * ${ahead});`] : []),
  ];
}

/** The arguments of conv2d and its grad input, whatever the algorithm: p = [x, w, b|null, y, add|null], s = [n, relu]. */
export const FORWARD_ARGS = `  const float* restrict x = p[0];
  const float* restrict w = p[1];
  const float* restrict b = p[2];
  float* restrict y = p[3];
  const float* restrict add = p[4];
  const long n = (long)s[0];
  const int relu = s[1] != 0;`;
