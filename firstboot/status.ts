// What firstboot is doing, for people and for tooling: /run/kiln/status.json (rewritten after
// every step) and one line per step on the console and in the journal. Holds no secrets: steps
// report names and counts only, errors carry paths, not values, and every string written passes
// the redaction layer (core/redact.ts) as a second net.
import { Type, type Static } from '@sinclair/typebox';
import type { Problem } from '../core/problem.ts';
import { writeFileAtomicSync } from '../core/fs.ts';
import { redactDeep, redactText } from '../core/redact.ts';
import { writeOut } from '../core/output.ts';

const STEP_STATES = ['pending', 'running', 'done', 'failed', 'skipped'] as const;
const PASS_STATES = ['running', 'done', 'failed', 'no-source', 'already-provisioned', 'waiting-for-network', 'installed'] as const;
const oneOf = <T extends readonly string[]>(values: T) => Type.Union(values.map((v) => Type.Literal(v as T[number])));

const StatusStepSchema = Type.Object({
  name: Type.String(),
  state: oneOf(STEP_STATES),
  summary: Type.Optional(Type.String()),
  ms: Type.Optional(Type.Number()),
  error: Type.Optional(Type.String()),
});

/** /run/kiln/status-PASS.json; `kiln-firstboot status` reads it back through this schema. */
export const StatusSchema = Type.Object({
  pass: Type.String(),
  state: oneOf(PASS_STATES),
  source: Type.Optional(Type.Object({ provider: Type.String(), location: Type.String() })),
  instanceId: Type.Optional(Type.String()),
  steps: Type.Array(StatusStepSchema),
  error: Type.Optional(
    Type.Object({ message: Type.String(), hint: Type.Optional(Type.String()), problems: Type.Optional(Type.Array(Type.Unknown())) }),
  ),
  warnings: Type.Array(Type.String()),
  updatedAt: Type.String(),
});

export type StepState = (typeof STEP_STATES)[number];
export type StatusStep = Static<typeof StatusStepSchema>;
export type Status = Omit<Static<typeof StatusSchema>, 'error'> & { error?: { message: string; hint?: string; problems?: Problem[] } };

export class StatusReporter {
  readonly status: Status;

  constructor(
    private readonly file: string,
    pass: string,
    private readonly out: (line: string) => void = (l) => writeOut(`${l}\n`),
  ) {
    this.status = { pass, state: 'running', steps: [], warnings: [], updatedAt: new Date().toISOString() };
  }

  line(text: string): void {
    this.out(redactText(`kiln-firstboot[${this.status.pass}]: ${text}`));
  }

  update(change: Partial<Status>): void {
    Object.assign(this.status, change, { updatedAt: new Date().toISOString() });
    this.flush();
  }

  warn(text: string): void {
    this.status.warnings.push(text);
    this.line(`warning: ${text}`);
  }

  step(name: string, state: StepState, extra: Omit<StatusStep, 'name' | 'state'> = {}): void {
    const existing = this.status.steps.find((s) => s.name === name);
    if (existing) Object.assign(existing, { state, ...extra });
    else this.status.steps.push({ name, state, ...extra });
    if (state !== 'running')
      this.line(
        `${name}: ${state}${extra.summary ? ` — ${extra.summary}` : ''}${extra.error ? ` — ${extra.error}` : ''}${extra.ms !== undefined ? ` (${extra.ms} ms)` : ''}`,
      );
    this.update({});
  }

  flush(): void {
    // world-readable: every string passes the redaction layer, whatever a step or parser put in it
    writeFileAtomicSync(this.file, `${JSON.stringify(redactDeep(this.status), null, 2)}\n`, 0o644);
  }
}
