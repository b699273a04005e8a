// Each node's progress as the server sees it (script fetched, seed fetched, first boot done or
// failed), kept in DIR/serve/state.json so that a restarted server still refuses a done node's seed
// and `kiln cluster status` can show it. A node's record belongs to one seed: a new seed (gen
// --rotate, a changed spec) starts it afresh. Written atomically, one write at a time.
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { writeFileAtomic } from '../../../core/fs.ts';
import { readStateFile } from '../../../core/json.ts';
import { Strict } from '../../../core/schema.ts';
import { REASON_MAX_CHARS } from '../../../node/serve.ts';
import type { ServedNode } from './plan.ts';

export const STATE_FILE = 'serve/state.json';
export const ACCESS_LOG = 'serve/access.log';

const Fetches = Type.Object({ count: Type.Integer({ minimum: 0 }), last: Type.Optional(Type.String()) }, Strict);
const NodeProgressSchema = Type.Object(
  {
    seedHash: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    script: Fetches,
    seed: Fetches,
    /** Seed requests answered 410 (after done): each one is a machine booting again, or someone else. */
    refused: Fetches,
    outcome: Type.Optional(Type.Union([Type.Literal('done'), Type.Literal('failed')])),
    reason: Type.Optional(Type.String({ maxLength: REASON_MAX_CHARS })),
    reportedAt: Type.Optional(Type.String()),
  },
  Strict,
);
const StateSchema = Type.Object({ version: Type.Literal(1), nodes: Type.Record(Type.String(), NodeProgressSchema) }, Strict);
export type NodeProgress = Static<typeof NodeProgressSchema>;
type State = Static<typeof StateSchema>;

const REMEDY = 'remove DIR/serve/state.json to forget what the server saw (every seed is then served again)';
const fresh = (seedHash: string): NodeProgress => ({ seedHash, script: { count: 0 }, seed: { count: 0 }, refused: { count: 0 } });

/** DIR/serve/state.json, or undefined when no server has run for DIR. */
export const readProgress = (dir: string): Promise<State | undefined> =>
  readStateFile<State>(path.join(dir, STATE_FILE), StateSchema, REMEDY);

export class Progress {
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly file: string,
    private readonly state: State,
  ) {}

  static async open(dir: string, nodes: ServedNode[]): Promise<Progress> {
    const stored = await readProgress(dir);
    const state: State = { version: 1, nodes: {} };
    for (const n of nodes) {
      const old = stored?.nodes[n.name];
      state.nodes[n.name] = old?.seedHash === n.seedHash ? old : fresh(n.seedHash);
    }
    // written on the first save: the caller saves once it listens, so a refused start writes nothing
    return new Progress(path.join(dir, STATE_FILE), state);
  }

  get(node: string): NodeProgress {
    return this.state.nodes[node]!;
  }

  /** Counts a fetch (`script`, `seed` or `refused`) and records it. */
  fetched(node: string, what: 'script' | 'seed' | 'refused'): Promise<void> {
    const f = this.get(node)[what];
    f.count += 1;
    f.last = new Date().toISOString();
    return this.save();
  }

  reported(node: string, outcome: 'done' | 'failed', reason: string | undefined): Promise<void> {
    const p = this.get(node);
    // a done node stays done: a later report cannot bring its seed back
    if (p.outcome === 'done') return this.save();
    p.outcome = outcome;
    if (reason === undefined) delete p.reason;
    else p.reason = reason;
    p.reportedAt = new Date().toISOString();
    return this.save();
  }

  /** Serialized: writeFileAtomic's temporary name is per process, so two writes at once would collide. */
  save(): Promise<void> {
    const text = `${JSON.stringify(this.state, null, 2)}\n`;
    this.writing = this.writing.catch(() => undefined).then(() => writeFileAtomic(this.file, text, 0o644));
    return this.writing;
  }
}

/** One line per node for a terminal: what the server saw of it. */
export function progressLine(name: string, p: NodeProgress | undefined): string {
  if (!p) return `  ${name.padEnd(12)}not served yet`;
  const outcome =
    p.outcome === 'done'
      ? 'first boot done'
      : p.outcome === 'failed'
        ? `first boot FAILED${p.reason ? `: ${p.reason}` : ''}`
        : p.seed.count > 0
          ? 'provisioning'
          : p.script.count > 0
            ? 'booting'
            : 'waiting for it to boot';
  const refused = p.refused.count > 0 ? `, seed refused ${p.refused.count}×` : '';
  return `  ${name.padEnd(12)}script ${p.script.count}×, seed ${p.seed.count}×${refused}  ${outcome}`;
}
