// Facts the role plan depends on, read from the node before planning (the plan itself is pure).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { readAddonDescriptors } from './addons.ts';
import type { HostFacts } from './types.ts';
import { DEFAULT_MANIFESTS_DIR, IMAGE_JSON, KUBELET_DEFAULTS, PRELOAD_DIR, type ImageFacts } from '../../node/layout.ts';

function list(dir: string, suffixes: string[]): string[] {
  try {
    return readdirSync(dir)
      .filter((n) => suffixes.some((s) => n.endsWith(s)))
      .sort()
      .map((n) => path.join(dir, n));
  } catch {
    return [];
  }
}

/** What the builder recorded about the image (/etc/kiln/image.json); {} for an image without it. */
function imageFacts(root: string): Partial<ImageFacts> {
  try {
    return JSON.parse(readFileSync(path.join(root, IMAGE_JSON), 'utf8')) as Partial<ImageFacts>;
  } catch {
    return {};
  }
}

export function gatherFacts(root: string, manifestsDir = DEFAULT_MANIFESTS_DIR): HostFacts {
  let kubeletDefaults: Record<string, unknown> = {};
  try {
    kubeletDefaults = (parse(readFileSync(path.join(root, KUBELET_DEFAULTS), 'utf8')) ?? {}) as Record<string, unknown>;
  } catch {
    // an image without defaults: kubeadm's own apply
  }
  const strip = (p: string) => `/${path.relative(root, p)}`;
  return {
    kubeletDefaults,
    preloadImages: list(path.join(root, PRELOAD_DIR), ['.tar', '.tar.zst', '.tar.gz']).map(strip),
    manifests: list(path.join(root, manifestsDir), ['.yaml', '.yml', '.json']).map(strip),
    controlPlaneImagesPreloaded: imageFacts(root).controlPlaneImagesPreloaded === true,
    addons: readAddonDescriptors(root),
  };
}
