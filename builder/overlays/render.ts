// Handlebars for config files: strict (a missing value is an error, not an empty string) and
// no HTML escaping (these are TOML, YAML, INI and JSON files, not web pages).
import Handlebars from 'handlebars';
import YAML from 'yaml';
import { KilnError } from '../../core/errors.ts';

const hbs = Handlebars.create();
hbs.registerHelper('json', (value: unknown) => JSON.stringify(value, null, 2));
hbs.registerHelper('yaml', (value: unknown) => YAML.stringify(value, { sortMapEntries: true }).trimEnd());

export function renderTemplate(source: string, data: object, where: string): string {
  try {
    return hbs.compile(source, { strict: true, noEscape: true })(data);
  } catch (cause) {
    throw new KilnError(`cannot render template: ${(cause as Error).message.split('\n')[0]}`, {
      file: where,
      hint: 'templates see { spec, image, slices, journald, kubelet, docker }; check the names used',
      cause,
    });
  }
}
