// NoCloud user-data → the model. The kind is told by the first line, as cloud-init does
// (case-insensitive, leading blanks skipped), after gunzipping gzip data:
//   #cloud-config      → cloud-config
//   #!                 → a script, run in the late pass
//   MIME headers       → multi-part: at most one text/cloud-config part (kiln does not implement
//                        cloud-init's merging) and text/x-shellscript parts; text/plain parts are
//                        told by their first line, as cloud-init does
//   empty              → nothing to do (meta-data may still name the host)
// #include, #cloud-boothook, #part-handler, #cloud-config-archive, jinja templates and the like are
// errors: silently doing less than the user-data asks would leave a node half provisioned. Text
// that is none of these is an error too (cloud-init ignores it with a log line).
//
// Scripts are written to /var/lib/kiln/scripts/user-data-<n> (0700) and run by the late pass,
// before runcmd: cloud-init runs its scripts directory in name order, and its part-NNN files sort
// before runcmd.
import { CLOUD_CONFIG_FIELDS, modelProblems } from '../../model-checks.ts';
import { gunzipBounded, TOO_LARGE } from '../../../core/compress.ts';
import { type Problem } from '../../../core/problem.ts';
import { ValidationError } from '../../../core/errors.ts';
import { byPosition } from '../../../core/problem.ts';
import { emptyProvisioning, type Provisioning } from '../../model.ts';
import { applyCloudConfig } from './cloud-config.ts';
import { applyHostname, type MetaData } from './hostname.ts';
import { isMime, parseMime, type MimePart } from './mime.ts';
import { Report } from '../../../core/problem.ts';
import type { Context } from './report.ts';
import { readCloudConfigYaml } from './yaml.ts';

const SCRIPTS_DIR = '/var/lib/kiln/scripts';

const INLINE =
  'put the config inline in one #cloud-config document, or boot with kiln.config=<url> kiln.config.hash=sha256-<hex> on the kernel command line';
/** First-line markers kiln does not run, longest first (#cloud-config-archive starts like #cloud-config). */
const UNSUPPORTED: Array<[RegExp, string, string]> = [
  [
    /^#cloud-config-archive/,
    '#cloud-config-archive',
    'write one #cloud-config document (or MIME multi-part with one text/cloud-config part and text/x-shellscript parts)',
  ],
  [/^#cloud-config-jsonp/, '#cloud-config-jsonp', 'write one #cloud-config document: kiln does not merge or patch configs'],
  [/^#include-once/, '#include-once', INLINE],
  [/^#include/, '#include', INLINE],
  [/^#cloud-boothook/, '#cloud-boothook', 'use bootcmd in a #cloud-config document: it runs early, before the network'],
  [/^#part-handler/, '#part-handler', 'kiln runs no custom part handlers: use a #cloud-config document and scripts'],
  [/^#upstart-job/, '#upstart-job', 'write a systemd unit with write_files and start it in runcmd'],
  [
    /^##\s*template:\s*jinja/,
    '## template: jinja',
    'render the template before building the seed: kiln does not render jinja or expose instance data',
  ],
];
const PART_TYPES: Record<string, string> = {
  'text/cloud-config-archive': '#cloud-config-archive',
  'text/cloud-config-jsonp': '#cloud-config-jsonp',
  'text/x-include-url': '#include',
  'text/x-include-once-url': '#include-once',
  'text/cloud-boothook': '#cloud-boothook',
  'text/part-handler': '#part-handler',
  'text/upstart-job': '#upstart-job',
  'text/jinja2': '## template: jinja',
};

type Kind =
  | { kind: 'cloud-config' }
  | { kind: 'script' }
  | { kind: 'empty' }
  | { kind: 'unsupported'; what: string; hint: string }
  | { kind: 'unknown' };

function kindOf(text: string): Kind {
  const head = text.trimStart().slice(0, 64).toLowerCase();
  if (head === '') return { kind: 'empty' };
  for (const [re, what, hint] of UNSUPPORTED) if (re.test(head)) return { kind: 'unsupported', what, hint };
  if (head.startsWith('#cloud-config')) return { kind: 'cloud-config' };
  if (head.startsWith('#!')) return { kind: 'script' };
  return { kind: 'unknown' };
}

const isGzip = (b: Buffer) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

export function parseUserData(data: Buffer, file: string, meta: MetaData): Provisioning {
  const model = emptyProvisioning('cloud-config', meta.instanceId);
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  const fail = (message: string, hint: string, path = ''): never => {
    throw new ValidationError([{ file, path, message, hint, severity: 'error' as const }]);
  };

  let bytes = data;
  if (isGzip(bytes)) {
    const inflated = gunzipBounded(bytes);
    if (inflated === 'too-large') fail(`gzip user-data ${TOO_LARGE}`, 'user-data is a config, not a payload: fetch big files from a URL');
    if (inflated === 'not-gzip')
      fail(
        'user-data starts like gzip data but does not decompress',
        'compress it again with `gzip -c user-data`, or store it uncompressed',
      );
    bytes = inflated as Buffer;
  }
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
  const text = bytes.toString('utf8');
  let cloudConfig: { text: string; file: string; lineOffset: number } | undefined;
  const scripts: Buffer[] = [];

  const kind = kindOf(text);
  if (isMime(bytes.toString('latin1')) && kind.kind === 'unknown') {
    const parts = readParts(bytes, file, isGzip(data));
    problems.push(...parts.problems);
    cloudConfig = parts.cloudConfig;
    scripts.push(...parts.scripts);
  } else if (kind.kind === 'unsupported') {
    fail(`${kind.what} user-data is not supported by kiln-firstboot`, kind.hint);
  } else if (kind.kind === 'unknown') {
    fail(
      'user-data is not cloud-config, a script or MIME multi-part',
      'start it with "#cloud-config" (or "#!" for a script); an empty file is fine too',
    );
  } else if (kind.kind === 'cloud-config') {
    cloudConfig = { text, file, lineOffset: 0 };
  } else if (kind.kind === 'script') {
    scripts.push(bytes);
  }

  const report = new Report(cloudConfig?.file ?? file, file);
  let located: (p: Problem) => Problem = (p) => p;
  if (cloudConfig) {
    try {
      const doc = readCloudConfigYaml(cloudConfig.text, cloudConfig.file, cloudConfig.lineOffset);
      located = doc.locate;
      const ctx: Context = { report, model, isOctalLiteral: doc.isOctalLiteral };
      applyCloudConfig(doc.value, meta, ctx);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      problems.push(...error.problems);
    }
  } else {
    applyHostname({}, meta, { report, model, isOctalLiteral: () => false });
  }
  problems.push(...report.problems.map(located));
  // what useradd, chown and the kernel would refuse, unless a check above already said so there
  problems.push(
    ...modelProblems(model, CLOUD_CONFIG_FIELDS)
      .filter((p) => !problems.some((q) => q.path === p.path))
      .map(located),
  );
  warnings.push(...report.warnings.map(located));
  if (problems.length > 0) throw new ValidationError(problems.sort(byPosition));

  scripts.forEach((body, i) => {
    const path = `${SCRIPTS_DIR}/user-data-${i + 1}`;
    model.files.push({
      path,
      contents: { kind: 'inline', data: body },
      append: [],
      mode: 0o700,
      overwrite: true,
      secret: false,
      origin: { file, path: '' },
    });
  });
  model.runcmd.unshift(...scripts.map((_, i) => [`${SCRIPTS_DIR}/user-data-${i + 1}`]));
  model.warnings.push(...warnings.sort(byPosition));
  return model;
}

interface Parts {
  cloudConfig?: { text: string; file: string; lineOffset: number };
  scripts: Buffer[];
  problems: Problem[];
}

/** The parts of MIME user-data kiln uses: one cloud-config, scripts in order; a problem for anything else. */
function readParts(bytes: Buffer, file: string, gzipped: boolean): Parts {
  const problems: Problem[] = [];
  const scripts: Buffer[] = [];
  let cloudConfig: Parts['cloudConfig'];
  const mime = parseMime(bytes.toString('latin1'));
  problems.push(
    ...mime.problems.map((p) => ({ file, line: p.line, col: 1, path: '', message: p.message, hint: p.hint, severity: 'error' as const })),
  );
  let first: MimePart | undefined;
  for (const part of mime.parts) {
    const at = { file, line: part.line, col: 1 };
    const partText = part.body.toString('utf8');
    let type = part.type;
    // cloud-init tells text/plain parts (and parts without a type) by their first line
    if (type === 'text/plain' || type === 'text/x-not-multipart') {
      const k = kindOf(partText);
      if (k.kind === 'cloud-config') type = 'text/cloud-config';
      else if (k.kind === 'script') type = 'text/x-shellscript';
      else if (k.kind === 'empty') continue;
      else {
        problems.push(
          k.kind === 'unsupported'
            ? {
                ...at,
                path: '',
                message: `MIME part ${part.index}: ${k.what} is not supported by kiln-firstboot`,
                hint: k.hint,
                severity: 'error' as const,
              }
            : {
                ...at,
                path: '',
                message: `MIME part ${part.index} (${type}) is neither cloud-config nor a script`,
                hint: 'start it with "#cloud-config" or "#!", or give it the type text/cloud-config or text/x-shellscript',
                severity: 'error' as const,
              },
        );
        continue;
      }
    }
    if (type === 'text/cloud-config') {
      if (first) {
        problems.push({
          ...at,
          path: '',
          message: `MIME part ${part.index} is a second text/cloud-config part (part ${first.index} is the first): kiln does not implement cloud-init's merge rules`,
          hint: 'merge them into one text/cloud-config part',
          severity: 'error' as const,
        });
        continue;
      }
      first = part;
      cloudConfig =
        part.verbatim && !gzipped
          ? { text: partText, file, lineOffset: part.bodyLine - 1 }
          : { text: partText, file: `${file} (part ${part.index})`, lineOffset: 0 };
    } else if (type === 'text/x-shellscript') {
      if (!partText.startsWith('#!'))
        problems.push({
          ...at,
          path: '',
          message: `MIME part ${part.index} (text/x-shellscript) does not start with "#!"`,
          hint: 'start the script with an interpreter line such as #!/bin/sh',
          severity: 'error' as const,
        });
      else scripts.push(part.body);
    } else {
      const known = PART_TYPES[type];
      problems.push({
        ...at,
        path: '',
        message: `MIME part ${part.index} has type "${type}", which kiln-firstboot does not support${known ? ` (cloud-init's ${known})` : ''}`,
        hint: 'kiln-firstboot takes one text/cloud-config part and text/x-shellscript parts',
        severity: 'error' as const,
      });
    }
  }
  return { cloudConfig, scripts, problems };
}
