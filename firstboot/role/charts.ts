// A chart in the image is checked before helm installs it: `helm --version` is a no-op for a local
// chart, so a wrong or damaged archive would otherwise install whatever it holds. Its sha256 (when
// the image baked it) and its own Chart.yaml must be the chart the plan names.
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { KilnError, ValidationError } from '../../core/errors.ts';
import { readInputBytes, readInputFile } from '../../core/fs.ts';
import { chartMismatch, parseChartYaml, readChartMeta, type ChartMeta } from '../../node/chart-archive.ts';
import { under } from '../apply/fs.ts';

export interface ChartWanted {
  name?: string | undefined;
  version?: string | undefined;
  sha256?: string | undefined;
}

const HINT = 'the image holds another chart than the one named: rebuild the image, or fix the chart path and version in the node config';

/** Nothing for a chart helm fetches itself (a URL or repo/name: its --version applies); a KilnError when a local one is not `want`. */
export async function checkLocalChart(root: string, chart: string, want: ChartWanted): Promise<string | undefined> {
  if (!chart.startsWith('/')) return undefined;
  const host = under(root, chart);
  const fail = (message: string, cause?: unknown): never => {
    throw new KilnError(`chart ${chart}: ${message}`, { hint: HINT, cause });
  };
  let meta: ChartMeta;
  try {
    if ((await stat(host).catch(() => undefined))?.isDirectory()) {
      const file = path.join(host, 'Chart.yaml');
      const text = await readInputFile(file, { what: `${chart}/Chart.yaml`, hint: HINT });
      meta = parseChartYaml(text!, `${chart}/Chart.yaml`);
    } else {
      // charts are small; a few MiB at most (Cilium's is 0.2)
      const data = (await readInputBytes(host, { what: chart, hint: HINT }))!;
      if (want.sha256) {
        const got = createHash('sha256').update(data).digest('hex');
        if (got !== want.sha256) fail(`sha256 ${got}, not the ${want.sha256} the image baked`);
      }
      meta = await readChartMeta(data, chart);
    }
  } catch (error) {
    if (error instanceof ValidationError) fail(error.problems[0]!.message, error);
    throw error;
  }
  const mismatch = chartMismatch(meta, want.name ?? meta.name, want.version ?? meta.version);
  if (mismatch) fail(mismatch);
  return `${meta.name} ${meta.version}`;
}
