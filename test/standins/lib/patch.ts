// TEST ONLY. The three patch kinds kubeadm applies from `patches.directory`: JSON merge patch
// (RFC 7386), a strategic merge patch approximation (maps merge, lists of named objects merge by
// `name`, other lists are replaced, `null` deletes) and JSON patch (RFC 6902).

type Json = unknown;

const isMap = (v: Json): v is Record<string, Json> => v !== null && typeof v === 'object' && !Array.isArray(v);

export function mergePatch(target: Json, patch: Json): Json {
  if (!isMap(patch)) return patch;
  const out: Record<string, Json> = isMap(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

export function strategicMergePatch(target: Json, patch: Json): Json {
  if (!isMap(patch)) return patch;
  const out: Record<string, Json> = isMap(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) {
      delete out[k];
      continue;
    }
    const current = out[k];
    const named = (a: Json): a is Array<Record<string, Json>> => Array.isArray(a) && a.every((e) => isMap(e) && typeof e.name === 'string');
    if (named(current) && named(v)) {
      const merged = current.map((e) => ({ ...e }));
      for (const item of v) {
        const i = merged.findIndex((e) => e.name === item.name);
        if (i === -1) merged.push(item);
        else merged[i] = strategicMergePatch(merged[i], item) as Record<string, Json>;
      }
      out[k] = merged;
    } else out[k] = strategicMergePatch(current, v);
  }
  return out;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new Error(`JSON pointer ${JSON.stringify(path)} does not start with "/"`);
  return path
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: Json, tokens: string[], op: string): { parent: Record<string, Json> | Json[]; key: string } {
  let node = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(node)) node = node[Number(t)];
    else if (isMap(node)) node = node[t];
    else node = undefined;
    if (node === undefined) throw new Error(`${op} operation does not apply: doc is missing path: /${tokens.join('/')}`);
  }
  if (!Array.isArray(node) && !isMap(node)) throw new Error(`${op} operation does not apply: doc is missing path: /${tokens.join('/')}`);
  return { parent: node, key: tokens.at(-1)! };
}

export function jsonPatch(doc: Json, ops: Json): Json {
  if (!Array.isArray(ops)) throw new Error('a JSON patch must be a list of operations');
  let out = structuredClone(doc);
  for (const raw of ops) {
    if (!isMap(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string')
      throw new Error(`invalid JSON patch operation ${JSON.stringify(raw)}`);
    const { op, path } = raw as { op: string; path: string };
    const tokens = pointer(path);
    const get = (p: string): Json => {
      let node: Json = out;
      for (const t of pointer(p)) node = Array.isArray(node) ? node[Number(t)] : isMap(node) ? node[t] : undefined;
      return node;
    };
    if (tokens.length === 0) {
      if (op === 'add' || op === 'replace') out = structuredClone(raw.value);
      else throw new Error(`${op} on the document root is not supported`);
      continue;
    }
    const remove = () => {
      const { parent, key } = parentOf(out, tokens, op);
      if (Array.isArray(parent)) {
        const i = Number(key);
        if (!(i >= 0 && i < parent.length)) throw new Error(`${op} operation does not apply: doc is missing path: ${path}`);
        return parent.splice(i, 1)[0];
      }
      if (!(key in parent)) throw new Error(`${op} operation does not apply: doc is missing path: ${path}`);
      const v = parent[key];
      delete parent[key];
      return v;
    };
    const add = (value: Json) => {
      const { parent, key } = parentOf(out, tokens, op);
      if (Array.isArray(parent)) {
        const i = key === '-' ? parent.length : Number(key);
        if (!(i >= 0 && i <= parent.length)) throw new Error(`${op} operation does not apply: doc is missing path: ${path}`);
        parent.splice(i, 0, value);
      } else parent[key] = value;
    };
    switch (op) {
      case 'add':
        add(structuredClone(raw.value));
        break;
      case 'remove':
        remove();
        break;
      case 'replace':
        remove();
        add(structuredClone(raw.value));
        break;
      case 'test':
        if (JSON.stringify(get(path)) !== JSON.stringify(raw.value)) throw new Error(`testing value ${path} failed`);
        break;
      case 'move':
      case 'copy': {
        if (typeof raw.from !== 'string') throw new Error(`${op} operation needs "from"`);
        const value = structuredClone(get(raw.from));
        if (value === undefined) throw new Error(`${op} operation does not apply: doc is missing from path: ${raw.from}`);
        if (op === 'move') {
          const saved = tokens.splice(0, tokens.length, ...pointer(raw.from));
          remove();
          tokens.splice(0, tokens.length, ...saved);
        }
        add(value);
        break;
      }
      default:
        throw new Error(`Unexpected kind: ${op}`);
    }
  }
  return out;
}
