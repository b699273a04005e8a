// What a node's serial console says about its first boot: kiln-firstboot prints one line per step
// (firstboot/status.ts) as `kiln-firstboot[<pass>]: …`. Pure: `kiln cluster status` and `up --wait`
// read the console log and ask this.

export type PassState =
  'not-started' | 'running' | 'waiting-for-network' | 'installed' | 'done' | 'already-provisioned' | 'failed' | 'no-source';

export interface PassStatus {
  state: PassState;
  /** The last step that reported, e.g. "kubeadm-join: done". */
  lastStep?: string;
  /** Why it failed, as firstboot said it (names paths, never secret values). */
  error?: string;
  /** The problems listed after an "invalid metadata" failure (file: path: message). */
  problems?: string[];
  ms?: number;
}

export interface ConsoleStatus {
  /** Boots seen in this log (kernel banners). */
  boots: number;
  early: PassStatus;
  late: PassStatus;
  /** One word for the node: the late pass's state once it started, else the early pass's. */
  overall: PassState;
}

/** States after which a pass changes nothing more on this boot. */
export const FINAL_STATES: ReadonlySet<PassState> = new Set(['done', 'already-provisioned', 'failed', 'no-source']);

const LINE = /kiln-firstboot\[(early|late)\]: (.*)$/;
const BOOT = /Linux version \d/;

function apply(pass: PassStatus, text: string): void {
  let m: RegExpExecArray | null;
  if ((m = /^\S+ pass done in (\d+) ms/.exec(text))) Object.assign(pass, { state: 'done', ms: Number(m[1]) });
  else if (/^instance \S+ is already provisioned/.test(text)) pass.state = 'already-provisioned';
  else if ((m = /^(?:failed|invalid metadata, nothing applied): (.*)$/.exec(text))) Object.assign(pass, { state: 'failed', error: m[1] });
  else if (/^no metadata source found/.test(text)) pass.state = 'no-source';
  else if (/^(?:the metadata is fetched over the network|install: the disk is written in the late pass)/.test(text))
    pass.state = 'waiting-for-network';
  // not final: the machine reboots into the installed system, whose boot starts anew
  else if (/^installed to \S+ in \d+ ms/.test(text)) pass.state = 'installed';
  else if (pass.state === 'failed' && pass.error !== undefined) (pass.problems ??= []).push(text);
  else if (pass.state === 'not-started' || pass.state === 'running') {
    pass.state = 'running';
    if ((m = /^([a-z0-9-]+(?: [a-z0-9-]+)?): (done|failed|skipped)\b/.exec(text))) pass.lastStep = `${m[1]}: ${m[2]}`;
  }
}

export function consoleStatus(log: string): ConsoleStatus {
  const lines = log.split(/\r?\n|\r/);
  let boots = 0;
  let early: PassStatus = { state: 'not-started' };
  let late: PassStatus = { state: 'not-started' };
  for (const line of lines) {
    if (BOOT.test(line)) {
      boots++;
      early = { state: 'not-started' };
      late = { state: 'not-started' };
      continue;
    }
    const m = LINE.exec(line);
    if (m) apply(m[1] === 'early' ? early : late, m[2]!.trim());
  }
  return { boots, early, late, overall: overallOf(early, late) };
}

/** The late pass decides once it started; before that an early failure is final, and anything else means "still booting". */
function overallOf(early: PassStatus, late: PassStatus): PassState {
  if (late.state !== 'not-started') return late.state;
  if (early.state === 'failed' || early.state === 'no-source') return early.state;
  return early.state === 'not-started' ? 'not-started' : 'running';
}
