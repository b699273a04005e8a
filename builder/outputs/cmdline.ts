// Kernel command lines, from the spec's boot settings. The last console= is /dev/console, where
// systemd prints status: serial goes last so tests and headless servers read the boot.
import type { ResolvedSpec } from '../spec/defaults.ts';

function consoleArgs(spec: ResolvedSpec): string[] {
  const serial = `console=ttyS0,${spec.boot.serialSpeed}n8`;
  return spec.boot.console === 'serial' ? [serial] : spec.boot.console === 'vga' ? ['console=tty0'] : ['console=tty0', serial];
}

/** kiln's arguments for this boot, then the console, then the user's own (which win on conflicts). */
export function kernelCmdline(spec: ResolvedSpec, own: string[]): string {
  return [...own, ...consoleArgs(spec), ...spec.boot.cmdline].join(' ');
}

/** GRUB lines that put its menu on the same consoles as the kernel. */
export function grubConsole(spec: ResolvedSpec): string {
  const serial = spec.boot.console !== 'vga';
  const vga = spec.boot.console !== 'serial';
  const terminals = [...(serial ? ['serial'] : []), ...(vga ? ['console'] : [])].join(' ');
  return [
    ...(serial ? [`serial --unit=0 --speed=${spec.boot.serialSpeed}`] : []),
    `terminal_input ${terminals}`,
    `terminal_output ${terminals}`,
  ].join('\n');
}
