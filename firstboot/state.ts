// Which instance this node was provisioned as, and which steps finished: /var/lib/kiln/firstboot.json.
// The same instance never re-provisions; after a crash the next run resumes at the first unfinished step.
import { readFileSync } from 'node:fs';
import { writeFileAtomicSync } from '../core/fs.ts';

export interface StateData {
  instanceId: string;
  /** Step name → ISO time it finished. */
  done: Record<string, string>;
  passes: Record<string, string>;
}

export class StateJournal {
  private data: StateData | undefined;

  constructor(readonly file: string) {
    try {
      this.data = JSON.parse(readFileSync(file, 'utf8')) as StateData;
    } catch {
      this.data = undefined;
    }
  }

  get instanceId(): string | undefined {
    return this.data?.instanceId;
  }

  /** Starts the journal over for a new instance (a re-imaged or re-purposed node). */
  begin(instanceId: string): void {
    if (this.data?.instanceId === instanceId) return;
    this.data = { instanceId, done: {}, passes: {} };
    this.save();
  }

  isDone(step: string): boolean {
    return Boolean(this.data?.done[step]);
  }

  passDone(pass: string): boolean {
    return Boolean(this.data?.passes[pass]);
  }

  markDone(step: string): void {
    this.data!.done[step] = new Date().toISOString();
    this.save();
  }

  markPass(pass: string): void {
    this.data!.passes[pass] = new Date().toISOString();
    this.save();
  }

  private save(): void {
    writeFileAtomicSync(this.file, `${JSON.stringify(this.data, null, 2)}\n`, 0o644);
  }
}
