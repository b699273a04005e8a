// Helm-style values merging (pure), shared by the builder (rendering a chart as the node will) and
// firstboot (the values files it writes).

export type Values = Record<string, unknown>;

const isPlain = (v: unknown): v is Values => v !== null && typeof v === 'object' && !Array.isArray(v);

/** `over` deep-merged onto `base` (maps per key, lists and scalars replaced, null deletes, as Helm does). */
export function mergeValues(base: Values, over: Values): Values {
  const out: Values = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === null) delete out[key];
    else if (isPlain(value) && isPlain(out[key])) out[key] = mergeValues(out[key] as Values, value);
    else out[key] = value;
  }
  return out;
}

/** Whether the dotted path (`nfs.server`) is set in the values. */
export function hasValue(values: unknown, dotted: string): boolean {
  return dotted.split('.').reduce<unknown>((v, k) => (isPlain(v) ? v[k] : undefined), values) !== undefined;
}

/** The values with `dotted` set to `value` (maps made on the way). */
export function withValue(values: Values, dotted: string, value: unknown): Values {
  const [head, ...rest] = dotted.split('.') as [string, ...string[]];
  if (rest.length === 0) return { ...values, [head]: value };
  return { ...values, [head]: withValue(isPlain(values[head]) ? (values[head] as Values) : {}, rest.join('.'), value) };
}
