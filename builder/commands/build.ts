import { KilnError } from '../../core/errors.ts';
import { build } from '../pipeline.ts';
import { pickReporter } from '../progress.ts';
import { defaultCacheDir } from '../rootfs/mmdebstrap.ts';

/** `kiln build SPEC --out DIR`. */
export async function buildCommand(positionals: string[], opts: Record<string, unknown>): Promise<number> {
  const [specFile, ...extra] = positionals;
  if (!specFile || extra.length)
    throw new KilnError('give exactly one spec file', { hint: 'kiln build images/debian-bookworm.yaml --out out/', exitCode: 2 });
  if (typeof opts.out !== 'string')
    throw new KilnError('--out DIR is required', { hint: 'kiln build images/debian-bookworm.yaml --out out/', exitCode: 2 });
  await build({
    specFile,
    outDir: opts.out,
    cacheDir: typeof opts['cache-dir'] === 'string' ? opts['cache-dir'] : defaultCacheDir(),
    noCache: opts['no-cache'] === true,
    reporter: pickReporter(opts.json === true),
  });
  return 0;
}
