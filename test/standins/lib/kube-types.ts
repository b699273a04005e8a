// TEST ONLY. Value types of config documents against upstream's field lists: the decoding errors
// kubeadm/kubelet really fail on (a bool where a string goes, "5" where a duration goes), which
// kube-fields.ts (keys and enums only) does not look at. Paths are walked the same way.
import { parseGoDuration } from '../flags.ts';
import { childPath, type FieldList } from './kube-fields.ts';

const QUANTITY = /^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(([eE][+-]?[0-9]+)|(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei))?$/;
/**
 * Durations that also take integer nanoseconds (component-base's TimeOrMetaDuration; the field
 * lists' notes say so for logging.flushFrequency).
 */
const NANOSECOND_DURATIONS = new Set(['logging.flushFrequency']);
const RFC3339 = /^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$/;

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  return typeof v === 'boolean' ? 'bool' : typeof v;
}

function checkLeaf(kind: string, path: string, type: string, value: unknown): string | undefined {
  if (value === null) return undefined; // null decodes to the zero value
  const field = `${kind}.${path}`;
  const cannot = (goType: string) =>
    `json: cannot unmarshal ${jsonType(value)}${typeof value === 'number' ? ` ${value}` : ''} into Go struct field ${field} of type ${goType}`;
  const base = type.split(' ')[0];
  switch (base) {
    case 'string':
      if (typeof value !== 'string') return cannot('string');
      if (type.includes('RFC3339') && !RFC3339.test(value))
        return `${field}: parsing time ${JSON.stringify(value)} as RFC3339: cannot parse`;
      return undefined;
    case 'bool':
      return typeof value === 'boolean' ? undefined : cannot('bool');
    case 'int':
      return typeof value === 'number' && Number.isInteger(value) ? undefined : cannot('int32');
    case 'float':
      return typeof value === 'number' ? undefined : cannot('float64');
    case 'duration':
      if (NANOSECOND_DURATIONS.has(path) && typeof value === 'number') return Number.isInteger(value) ? undefined : cannot('time.Duration');
      if (typeof value !== 'string') return cannot('v1.Duration');
      try {
        parseGoDuration(value);
        return undefined;
      } catch (error) {
        return `${field}: ${(error as Error).message}`;
      }
    case 'quantity':
      if (typeof value !== 'string' && typeof value !== 'number') return cannot('resource.Quantity');
      return QUANTITY.test(String(value))
        ? undefined
        : `${field}: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`;
    default:
      return undefined; // object (opaque) or a note
  }
}

/** Decoding problems of one document whose apiVersion and kind are in `lists` ([] otherwise). */
export function kubeTypeProblems(doc: Record<string, unknown>, lists: FieldList[]): string[] {
  const list = lists.find((l) => l.apiVersion === doc.apiVersion);
  const kind = list?.kinds[doc.kind as string];
  if (!kind) return [];
  const fields = kind.fields;
  const problems: string[] = [];
  const visit = (value: unknown, prefix: string) => {
    if (prefix && prefix in fields) {
      const type = fields[prefix]!;
      if (type === 'object') return;
      const problem = checkLeaf(String(doc.kind), prefix, type, value);
      if (problem) problems.push(problem);
      return;
    }
    const isPrefix = (p: string) => Object.keys(fields).some((f) => f.startsWith(p));
    if (Array.isArray(value)) {
      if (prefix && !isPrefix(`${prefix}[]`)) return;
      for (const item of value) visit(item, `${prefix}[]`);
      return;
    }
    if (value !== null && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) visit(child, childPath(prefix, key, fields));
      return;
    }
    // a scalar where upstream has an object or a list
    if (prefix && value !== null && (isPrefix(`${prefix}.`) || isPrefix(`${prefix}{}`)))
      problems.push(`json: cannot unmarshal ${jsonType(value)} into Go struct field ${String(doc.kind)}.${prefix} of type struct`);
    else if (prefix && value !== null && isPrefix(`${prefix}[]`))
      problems.push(`json: cannot unmarshal ${jsonType(value)} into Go struct field ${String(doc.kind)}.${prefix} of type []`);
  };
  visit(doc, '');
  return problems;
}
