// cloud-config is YAML as cloud-init reads it: PyYAML, i.e. YAML 1.1 (`yes`/`no` are booleans,
// 0644 is octal 420). The values come from a YAML 1.1 parse; syntax errors and file:line:col
// locating come from the shared readYaml (the node tree is the same in both parses).
// A document that sits inside a bigger file (a 7bit MIME part) is located in that file: `lineOffset`
// is the number of lines before it.
import { isScalar, parseDocument, type ScalarTag, type Tags } from 'yaml';
import { type Problem } from '../../../core/problem.ts';
import { ValidationError } from '../../../core/errors.ts';
import { readYaml } from '../../../core/yaml.ts';

// PyYAML's booleans: YAML 1.1 without the single letters y/n (so `[y]` stays a string).
const PY_TRUE = /^(?:[Yy]es|YES|[Tt]rue|TRUE|[Oo]n|ON)$/;
const PY_FALSE = /^(?:[Nn]o|NO|[Ff]alse|FALSE|[Oo]ff|OFF)$/;
const pyBool = (tags: Tags): Tags =>
  tags.map((t) => {
    if (typeof t !== 'object' || t.tag !== 'tag:yaml.org,2002:bool' || !('test' in t)) return t;
    const bool = t as ScalarTag;
    return { ...bool, test: bool.identify?.(true) ? PY_TRUE : PY_FALSE };
  });

export interface CloudConfigYaml {
  value: unknown;
  locate(problem: Problem): Problem;
  isOctalLiteral(path: Array<string | number>): boolean;
}

export function readCloudConfigYaml(text: string, file: string, lineOffset = 0): CloudConfigYaml {
  const shift = (p: Problem): Problem =>
    lineOffset === 0 || p.file !== file || p.line === undefined ? p : { ...p, line: p.line + lineOffset };
  let located: ReturnType<typeof readYaml>;
  try {
    located = readYaml(text, file);
  } catch (error) {
    if (error instanceof ValidationError) throw new ValidationError(error.problems.map(shift));
    throw error;
  }
  const doc = parseDocument(text, { version: '1.1', customTags: pyBool, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0)
    throw new ValidationError(
      doc.errors.map((e) =>
        shift(
          located.locate({
            file,
            path: '',
            message: `YAML: ${e.message.split('\n')[0]}`,
            hint: 'cloud-config is read as YAML 1.1, like cloud-init does',
            severity: 'error' as const,
          }),
        ),
      ),
    );
  return {
    value: doc.toJS({ maxAliasCount: -1 }), // readYaml above checked the alias budget on the same text
    locate: (p) => shift(located.locate(p)),
    isOctalLiteral(path) {
      const node = doc.getIn(path, true);
      return isScalar(node) && node.format === 'OCT';
    },
  };
}
