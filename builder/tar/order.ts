// Archive order: depth-first with each directory's children sorted by byte value — what
// `tar --sort=name` produces, so a directory always precedes what it contains.

export function comparePaths(a: string, b: string): number {
  if (a === b) return 0;
  const pa = a === '' ? [] : a.split('/');
  const pb = b === '' ? [] : b.split('/');
  const n = Math.min(pa.length, pb.length);
  for (let i = 0; i < n; i++) {
    const ca = Buffer.from(pa[i]!);
    const cb = Buffer.from(pb[i]!);
    const c = Buffer.compare(ca, cb);
    if (c !== 0) return c;
  }
  return pa.length - pb.length;
}
