// Specs and golden files shared by the output unit tests.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { expect } from 'vitest';
import type { ResolvedSpec } from '../../builder/spec/defaults.ts';
import { parseSpec } from '../../builder/spec/load.ts';
import { repoRoot } from './build.ts';

/**
 * The default spec (images/debian-bookworm.yaml) as YAML parses it, for a test to edit before kiln
 * reads it. Edits may write anything, invalid values on purpose included, so this is no ImageSpec:
 * only the sections edits reach into are known to be mappings (the default spec has them all).
 */
export interface SpecDoc {
  [key: string]: unknown;
  kubernetes: Record<string, unknown>;
  node: Record<string, unknown> & { journald: Record<string, unknown> };
}

/**
 * The default spec with the given outputs and edits, parsed for real; the hash is pinned so golden
 * files survive package-list changes.
 */
export function defaultSpecWith(outputs: string[], edit: (doc: SpecDoc) => void = () => {}, file = 'spec.yaml'): ResolvedSpec {
  const doc = YAML.parse(readFileSync(path.join(repoRoot, 'images/debian-bookworm.yaml'), 'utf8'));
  delete doc.$schema;
  doc.outputs = outputs.map((format) => ({ format }));
  edit(doc);
  return { ...parseSpec(YAML.stringify(doc), file), hash: 'f'.repeat(64) };
}

/** Compares with a golden file; UPDATE_GOLDEN=1 rewrites it instead. */
export function expectGolden(file: string, actual: string): void {
  if (process.env.UPDATE_GOLDEN) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, actual);
  }
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

/** A spec unlike the default in every boot setting the outputs render. */
export const customBoot = (d: SpecDoc) => {
  d.name = 'edge-node';
  d.boot = { console: 'serial', serialSpeed: 57600, timeout: 5, cmdline: ['quiet', 'systemd.show_status=1'] };
  d.pxe = { baseUrl: 'http://boot.example.com:8080/images/edge' };
};
