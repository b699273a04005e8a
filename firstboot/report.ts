// Telling `kiln cluster serve` how the first boot ended (`kiln.report=<url>` on the command line):
// the server then stops serving this node's seed. Best effort and bounded: a server that is gone
// costs a warning, never the node's provisioning.
import { redactText, redactUrl } from '../core/redact.ts';
import { REASON_MAX_CHARS, REPORT_PARAM, seedProof, type Report } from '../node/serve.ts';
import { cmdlineValue, type Cmdline } from './metadata/cmdline.ts';

export interface ReportOptions {
  attempts?: number;
  timeoutMs?: number;
}

/** The report URL, if the node was network-booted by kiln cluster serve. */
export const reportUrl = (cmdline: Cmdline): string | undefined => {
  const url = cmdlineValue(cmdline, REPORT_PARAM);
  return url && /^https?:\/\//.test(url) ? url : undefined;
};

export function reportBody(outcome: Report['outcome'], seed: Buffer, reason?: string): Report {
  // the reason is a console line already; redacted again, and cut to what the server takes
  const text = reason === undefined ? undefined : redactText(reason).slice(0, REASON_MAX_CHARS);
  return { outcome, ...(text ? { reason: text } : {}), proof: seedProof(seed) };
}

/** Posts the report; returns a warning for the console when it could not be delivered. */
export async function postReport(url: string, report: Report, opts: ReportOptions = {}): Promise<string | undefined> {
  const attempts = opts.attempts ?? 3;
  let last = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(report),
        signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
      });
      await res.arrayBuffer();
      if (res.ok) return undefined;
      last = `HTTP ${res.status}`;
      // the server refused this report (wrong proof, unknown node): waiting will not change that
      if (res.status >= 400 && res.status < 500) break;
    } catch (cause) {
      last = (cause as Error).message;
    }
    if (attempt < attempts) await new Promise((r) => setTimeout(r, 1000 * attempt));
  }
  return `could not report "${report.outcome}" to ${redactUrl(url)} (${redactText(last)}); the server still shows this node as provisioning`;
}
