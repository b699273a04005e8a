// TEST ONLY. Checks kubeadm / kubelet / kube-proxy config documents against upstream's field lists
// (../shared/upstream/kubernetes): every key must be one upstream defines for that kind, every
// enum value one it allows. Pure: the caller passes the field data (tests read the files; the
// stand-ins have it bundled in), so the same check runs on the host and inside a VM.

/** The field lists, in ../shared/upstream/kubernetes, that the stand-ins check against. */
export const FIELD_LIST_FILES = ['kubeadm-v1beta4.json', 'kubelet-v1beta1.json', 'kubeproxy-v1alpha1.json'] as const;

export interface FieldList {
  apiVersion: string;
  kinds: Record<string, { fields: Record<string, string>; required: string[] }>;
  enums: Record<string, string[]>;
}

/** The path of `key` below `prefix`: `prefix{}` where upstream has a map (any key), else `prefix.key`. */
export function childPath(prefix: string, key: string, fields: Record<string, string>): string {
  const asMap = `${prefix}{}`;
  const isMap = Object.keys(fields).some((f) => f === asMap || f.startsWith(`${asMap}.`) || f.startsWith(`${asMap}[]`));
  return isMap ? asMap : prefix ? `${prefix}.${key}` : key;
}

/** `a.b[].c` paths of every key in a value; map keys under a `{}` path in `fields` become `{}`. */
function walk(value: unknown, prefix: string, fields: Record<string, string>, out: Array<{ path: string; value: unknown }>): void {
  if (Array.isArray(value)) {
    for (const item of value) {
      // scalar items are checked as values of the list path (enums such as enforceNodeAllocatable[])
      if (item === null || typeof item !== 'object') out.push({ path: `${prefix}[]`, value: item });
      walk(item, `${prefix}[]`, fields, out);
    }
    return;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      const path = childPath(prefix, key, fields);
      out.push({ path, value: child });
      walk(child, path, fields, out);
    }
  }
}

function allowed(path: string, fields: Record<string, string>): boolean {
  if (path in fields) return true;
  for (const [leaf, type] of Object.entries(fields)) {
    if (leaf.startsWith(`${path}.`) || leaf.startsWith(`${path}[]`) || leaf.startsWith(`${path}{}`)) return true;
    // below an opaque leaf anything goes
    if (type === 'object' && (path.startsWith(`${leaf}.`) || path.startsWith(`${leaf}[]`) || path.startsWith(`${leaf}{}`))) return true;
  }
  return false;
}

/** Problems of one document (`apiVersion` + `kind` pick the field list); [] when upstream knows every key. */
export function kubeDocProblems(doc: Record<string, unknown>, lists: FieldList[]): string[] {
  const list = lists.find((l) => l.apiVersion === doc.apiVersion);
  if (!list) return [`apiVersion ${JSON.stringify(doc.apiVersion)} is not one of ${lists.map((l) => l.apiVersion).join(', ')}`];
  const kind = list.kinds[doc.kind as string];
  if (!kind) return [`${list.apiVersion} has no kind ${JSON.stringify(doc.kind)} (kinds: ${Object.keys(list.kinds).join(', ')})`];
  const problems: string[] = [];
  const entries: Array<{ path: string; value: unknown }> = [];
  walk(doc, '', kind.fields, entries);
  for (const { path, value } of entries) {
    if (!allowed(path, kind.fields)) {
      problems.push(`${doc.kind}: unknown field "${path}"`);
      continue;
    }
    const choices = list.enums[`${doc.kind}.${path}`];
    if (choices && (typeof value === 'string' || typeof value === 'number') && !choices.includes(String(value)))
      problems.push(`${doc.kind}: ${path} = ${JSON.stringify(value)} is not one of ${choices.join(', ')}`);
  }
  return problems;
}
