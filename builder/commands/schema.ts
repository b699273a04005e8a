import { KilnError } from '../../core/errors.ts';
import { NodeConfigSchema } from '../../node/config/schema.ts';
import { ImageSpecSchema } from '../spec/schema.ts';
import { ClusterSpecSchema } from '../cluster/schema.ts';
import { writeOut } from '../../core/output.ts';

const SCHEMAS: Record<string, object> = { image: ImageSpecSchema, node: NodeConfigSchema, cluster: ClusterSpecSchema };

/** JSON Schema for editors: TypeBox schemas are JSON Schema already; drop kiln's private x- keys. */
export function exportSchema(name: string): string {
  const schema = SCHEMAS[name];
  if (!schema) throw new KilnError(`unknown schema "${name}"`, { hint: `known: ${Object.keys(SCHEMAS).join(', ')}`, exitCode: 2 });
  const json = JSON.stringify(
    { $schema: 'http://json-schema.org/draft-07/schema#', ...schema },
    // kiln's own string formats (kiln-ip, kiln-cidr) mean nothing to editors' validators
    (key, value: unknown) =>
      key.startsWith('x-') || (key === 'format' && typeof value === 'string' && value.startsWith('kiln-')) ? undefined : value,
    2,
  );
  return `${json}\n`;
}

export async function schemaCommand(args: string[]): Promise<number> {
  writeOut(exportSchema(args[0] ?? 'image'));
  return 0;
}
