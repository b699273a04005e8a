// Telling `kiln cluster serve` how the first boot ended (`kiln.report=<url>` on the command line):
// the server then stops serving this node's seed. Best effort and bounded: a server that is gone
// costs a warning, never the node's provisioning.
import { redactText, redactUrl } from '../core/redact.ts';
import { REASON_MAX_CHARS, REPORT_PARAM, seedProof, type Report, type ReportTarget } from '../node/serve.ts';
import { cmdlineTlsPin, cmdlineValue, type Cmdline } from './metadata/cmdline.ts';
import { pinnedRequest } from './metadata/pinned-tls.ts';

export interface ReportOptions {
  attempts?: number;
  timeoutMs?: number;
}

/** Where to report, if the node was network-booted by kiln cluster serve (with its CA pin when it serves TLS). */
export function reportTarget(cmdline: Cmdline): ReportTarget | undefined {
  const url = cmdlineValue(cmdline, REPORT_PARAM);
  if (!url || !/^https?:\/\//.test(url)) return undefined;
  const tlsPin = cmdlineTlsPin(cmdline);
  return { url, ...(tlsPin ? { tlsPin } : {}) };
}

/** One POST: the status; over the pinned CA's TLS when the target has a pin, else fetch's own. */
async function postOnce(target: ReportTarget, body: string, timeoutMs: number): Promise<number> {
  if (target.tlsPin) return (await pinnedRequest(target.url, target.tlsPin, { method: 'POST', body, timeoutMs, maxBytes: 4096 })).status;
  const res = await fetch(target.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    signal: AbortSignal.timeout(timeoutMs),
  });
  await res.arrayBuffer();
  return res.status;
}

export function reportBody(outcome: Report['outcome'], seed: Buffer, reason?: string): Report {
  // the reason is a console line already; redacted again, and cut to what the server takes
  const text = reason === undefined ? undefined : redactText(reason).slice(0, REASON_MAX_CHARS);
  return { outcome, ...(text ? { reason: text } : {}), proof: seedProof(seed) };
}

/** Posts the report; returns a warning for the console when it could not be delivered. */
export async function postReport(target: ReportTarget, report: Report, opts: ReportOptions = {}): Promise<string | undefined> {
  const attempts = opts.attempts ?? 3;
  let last = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const status = await postOnce(target, JSON.stringify(report), opts.timeoutMs ?? 10_000);
      if (status >= 200 && status < 300) return undefined;
      last = `HTTP ${status}`;
      // the server refused this report (wrong proof, unknown node): waiting will not change that
      if (status >= 400 && status < 500) break;
    } catch (cause) {
      last = (cause as Error).message;
    }
    if (attempt < attempts) await new Promise((r) => setTimeout(r, 1000 * attempt));
  }
  return `could not report "${report.outcome}" to ${redactUrl(target.url)} (${redactText(last)}); the server still shows this node as provisioning`;
}
