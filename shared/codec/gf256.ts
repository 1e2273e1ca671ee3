// GF(2^8) with ISA-L's polynomial 0x11D, plus the matrix helpers XrdEc's Reed-Solomon needs:
// the gf_gen_cauchy1_matrix generator, inversion, and the rows that rebuild lost stripes.

export const GF_POLY = 0x11d;

/** EXP[i] = 2^i, doubled to 510 entries so mul can skip the modulo. LOG[0] is unused. */
export const EXP = new Uint8Array(512);
export const LOG = new Uint8Array(256);
{
  let x = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = x;
    EXP[i + 255] = x;
    LOG[x] = i;
    x <<= 1;
    if (x & 0x100) x ^= GF_POLY;
  }
}

export function gfMul(a: number, b: number): number {
  if (a === 0 || b === 0) return 0;
  return EXP[LOG[a]! + LOG[b]!]!;
}

export function gfInv(a: number): number {
  if (a === 0) throw new RangeError('gfInv: 0 has no inverse in GF(2^8)');
  return EXP[255 - LOG[a]!]!;
}

let mulTable: Uint8Array | undefined;

/** 64 KiB table: MUL[a * 256 + b] = a·b; a row (one coefficient) is a 256-byte lookup. */
export function gfMulTable(): Uint8Array {
  if (mulTable === undefined) {
    mulTable = new Uint8Array(65536);
    for (let a = 1; a < 256; a++) {
      for (let b = 1; b < 256; b++) mulTable[(a << 8) | b] = EXP[LOG[a]! + LOG[b]!]!;
    }
  }
  return mulTable;
}

/**
 * ISA-L gf_gen_cauchy1_matrix(k + m, k), row-major (k + m) × k: identity on top; parity row
 * i ≥ k, column j: inv(i XOR j).
 */
export function cauchy1Generator(k: number, m: number): Uint8Array {
  const g = new Uint8Array((k + m) * k);
  for (let i = 0; i < k; i++) g[i * k + i] = 1;
  for (let i = k; i < k + m; i++) {
    for (let j = 0; j < k; j++) g[i * k + j] = gfInv(i ^ j);
  }
  return g;
}

/** Inverse of an n × n row-major matrix (Gauss-Jordan); throws RangeError when singular. */
export function invertMatrix(matrix: Uint8Array, n: number): Uint8Array {
  const a = Uint8Array.from(matrix);
  const inv = new Uint8Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let col = 0; col < n; col++) {
    let pivot = col;
    while (pivot < n && a[pivot * n + col] === 0) pivot++;
    if (pivot === n) throw new RangeError('invertMatrix: the matrix is singular');
    if (pivot !== col) {
      swapRows(a, n, pivot, col);
      swapRows(inv, n, pivot, col);
    }
    const scale = gfInv(a[col * n + col]!);
    scaleRow(a, n, col, scale);
    scaleRow(inv, n, col, scale);
    for (let r = 0; r < n; r++) {
      const f = a[r * n + col]!;
      if (r === col || f === 0) continue;
      for (let c = 0; c < n; c++) {
        a[r * n + c]! ^= gfMul(f, a[col * n + c]!);
        inv[r * n + c]! ^= gfMul(f, inv[col * n + c]!);
      }
    }
  }
  return inv;
}

function swapRows(m: Uint8Array, n: number, r1: number, r2: number): void {
  for (let c = 0; c < n; c++) {
    const t = m[r1 * n + c]!;
    m[r1 * n + c] = m[r2 * n + c]!;
    m[r2 * n + c] = t;
  }
}

function scaleRow(m: Uint8Array, n: number, r: number, f: number): void {
  for (let c = 0; c < n; c++) m[r * n + c] = gfMul(m[r * n + c]!, f);
}

/**
 * Coefficient rows (want.length × k) that rebuild stripes `want` from the k stripes `src`:
 * generator row w × inverse of the generator rows at `src`.
 */
export function decodeRows(k: number, m: number, src: readonly number[], want: readonly number[]): Uint8Array {
  const g = cauchy1Generator(k, m);
  const sub = new Uint8Array(k * k);
  src.forEach((s, r) => sub.set(g.subarray(s * k, s * k + k), r * k));
  const inv = invertMatrix(sub, k);
  const rows = new Uint8Array(want.length * k);
  want.forEach((w, i) => {
    for (let c = 0; c < k; c++) {
      let acc = 0;
      for (let t = 0; t < k; t++) acc ^= gfMul(g[w * k + t]!, inv[t * k + c]!);
      rows[i * k + c] = acc;
    }
  });
  return rows;
}
