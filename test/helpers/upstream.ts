// The upstream reference data tests check against (../shared/upstream; see its README).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FieldList } from '../standins/lib/kube-fields.ts';
import { repoRoot } from './build.ts';

export const upstreamDir = path.resolve(repoRoot, '../shared/upstream');

export function kubeFieldLists(): FieldList[] {
  return ['kubeadm-v1beta4.json', 'kubelet-v1beta1.json', 'kubeproxy-v1alpha1.json'].map(
    (f) => JSON.parse(readFileSync(path.join(upstreamDir, 'kubernetes', f), 'utf8')) as FieldList,
  );
}
