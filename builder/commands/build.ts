export async function buildCommand(_pos: string[], _v: Record<string, unknown>): Promise<number> {
  return 1;
}
