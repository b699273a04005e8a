// /etc/hosts edits: one line per address kiln manages, each name on exactly one line.

/** Whether `current` already maps `name` to `address`. */
export function hostsMaps(current: string, address: string, name: string): boolean {
  return current.split('\n').some((line) => {
    const [addr, ...aliases] = line.trim().split(/\s+/);
    return addr === address && aliases.includes(name);
  });
}

/**
 * `current` with `address` mapped to `names`: the address's old line goes, the names leave every
 * other line (a line left without names goes too), and the new line follows the first (localhost).
 */
export function setHostsEntry(current: string, address: string, names: string[]): string {
  const kept: string[] = [];
  for (const line of current.split('\n')) {
    if (line.trim() === '') continue;
    if (line.trimStart().startsWith('#')) {
      kept.push(line);
      continue;
    }
    const [addr, ...aliases] = line.trim().split(/\s+/);
    if (addr === address) continue;
    const left = aliases.filter((a) => !names.includes(a));
    if (left.length === aliases.length) kept.push(line);
    else if (left.length > 0) kept.push(`${addr}\t${left.join(' ')}`);
  }
  const entry = `${address}\t${names.join('\t')}`;
  return `${[...kept.slice(0, 1), entry, ...kept.slice(1)].join('\n')}\n`;
}
