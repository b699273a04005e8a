// TEST ONLY. kubeadm's patches (patches.directory): which files it reads, and applying them to
// their targets (static Pod manifests, the kubelet's configuration).
import type { Dirent } from 'node:fs';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { Refusal, STANDIN, parseYamlDocuments, type Ctx } from '../lib/context.ts';
import { jsonPatch, mergePatch, strategicMergePatch } from '../lib/patch.ts';

const TARGETS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubeletconfiguration', 'corednsdeployment'];
const TYPES: Record<string, string> = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  '': 'application/strategic-merge-patch+json',
};
/** `target[suffix][+type].{json,yaml}` */
const NAME = new RegExp(`^(${TARGETS.join('|')})([^.+\\n]*)?(\\+)?(json|merge|strategic)?`);

export interface PatchSet {
  target: string;
  type: string;
  patches: unknown[];
}

/** kubeadm's GetPatchManagerForPath: every file under the directory (recursively). */
export function loadPatches(ctx: Ctx, dir: string | undefined): PatchSet[] {
  if (!dir) return [];
  const fail = (why: string) => new Refusal(`could not list patch files for path ${JSON.stringify(dir)}: ${why}`);
  if (!ctx.exists(dir)) throw fail(`lstat ${dir}: no such file or directory`);
  if (!ctx.isDir(dir)) throw fail('not a directory');
  const hostDir = ctx.host(dir);
  const files = (readdirSync(hostDir, { recursive: true, withFileTypes: true }) as Dirent[])
    .filter((e) => e.isFile())
    .map((e) => path.join(dir, path.relative(hostDir, path.join(e.parentPath, e.name))))
    .sort();
  const ignored: string[] = [];
  const sets: PatchSet[] = [];
  for (const file of files) {
    const base = path.basename(file);
    const m = NAME.exec(base);
    if (!/.+\.(json|yaml)$/.test(base)) ignored.push(`${base}: the file extension must be one of [json yaml]`);
    else if (!m) ignored.push(`${base}: unknown target, must be one of [${TARGETS.join(' ')}]`);
    else {
      if (m[3] && !m[4]) throw fail(`unknown or missing patch type after '+', must be one of [json merge strategic]`);
      let text: string;
      try {
        text = ctx.read(file);
      } catch (error) {
        throw fail(`could not read the file ${JSON.stringify(file)}: ${(error as Error).message}`);
      }
      if (text.length === 0) {
        ctx.warn(`[patches] Ignoring empty file: ${JSON.stringify(base)}`);
        continue;
      }
      const parsed = parseYamlDocuments(text);
      if (parsed.error) throw fail(`could not convert patch to JSON:\n${text}\n: ${parsed.error}`);
      sets.push({ target: m[1]!, type: m[4] ?? '', patches: parsed.docs.filter((d) => d !== null && d !== undefined) });
    }
  }
  if (ignored.length > 0)
    throw new Refusal(
      `${STANDIN} kubeadm would silently ignore files in the patches directory ${JSON.stringify(dir)} ("[patches] Ignoring file"):\n${ignored.map((i) => `\t- ${i}`).join('\n')}`,
    );
  return sets;
}

export function applyPatches(ctx: Ctx, sets: PatchSet[], target: string, data: unknown): unknown {
  let out = data;
  for (const set of sets.filter((s) => s.target === target)) {
    for (const patch of set.patches) {
      try {
        out = set.type === 'json' ? jsonPatch(out, patch) : set.type === 'merge' ? mergePatch(out, patch) : strategicMergePatch(out, patch);
      } catch (error) {
        throw new Refusal(
          `error execution phase patches: could not apply the following patch of type "${TYPES[set.type]}" to target "${target}":\n${JSON.stringify(patch)}\n: ${(error as Error).message}`,
        );
      }
      ctx.out(`[patches] Applied patch of type "${TYPES[set.type]}" to target "${target}"\n`);
    }
  }
  return out;
}
