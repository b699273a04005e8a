// Boots images in QEMU (TCG: KVM hangs on these machines) with the serial console in a file,
// and reads the facts the test-only boot probe prints (test/fixtures/overlays/boot-probe) on a
// second serial port: on the console, a serial getty starting late hangs the tty up under the
// probe and its output is lost.
import { execa, type ResultPromise } from 'execa';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TCG_CPU } from '../../builder/cluster/lab/qemu.ts';

export const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
export const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd';

export interface BootSpec {
  name: string;
  dir: string;
  firmware: 'bios' | 'uefi';
  /** Disks in order: the first virtio/ide disk is what firmware boots from. */
  disks?: Array<{ file: string; format: 'raw' | 'qcow2'; interface?: 'virtio' | 'ide' | 'usb'; snapshot?: boolean }>;
  cdrom?: string;
  /**
   * Network boot from QEMU's built-in TFTP server. httpPort forwards the guest's connections to
   * 10.0.2.100:80 to an HTTP server on the host's loopback (QEMU refuses forwards on 10.0.2.2).
   */
  netboot?: { tftpDir: string; bootfile: string; httpPort?: number };
  memoryMiB?: number;
  /** Boot order letter for -boot: c disk, d cdrom, n network. */
  bootOrder?: string;
  /** An Ignition config passed as fw_cfg opt/com.coreos/config (how QEMU users hand one to a VM). */
  ignition?: string;
  /** Guest NIC MAC address (network-config tests match on it). */
  mac?: string;
  /** vCPUs (default 1: one TCG thread per core keeps parallel boots fair); kubeadm wants 2 on control planes. */
  cpus?: number;
}

export interface Probe {
  facts: Record<string, string>;
  log: string;
  seconds: number;
}

export class Vm {
  readonly serialLog: string;
  readonly probeLog: string;
  private child?: ResultPromise;
  private stderr = '';
  private started = 0;

  constructor(readonly spec: BootSpec) {
    this.serialLog = path.join(spec.dir, `${spec.name}.serial.log`);
    this.probeLog = path.join(spec.dir, `${spec.name}.probe.log`);
  }

  args(): string[] {
    const s = this.spec;
    const a = [
      '-accel',
      'tcg',
      '-machine',
      'q35',
      '-cpu',
      process.env.KILN_TEST_QEMU_CPU ?? TCG_CPU,
      '-smp',
      String(s.cpus ?? 1),
      '-m',
      String(s.memoryMiB ?? 2048),
      '-nographic',
      '-no-reboot',
    ];
    // ttyS0: the console; ttyS1: the probe's facts only (no getty is ever started on it)
    a.push('-serial', `file:${this.serialLog}`, '-serial', `file:${this.probeLog}`, '-monitor', 'none');
    if (s.firmware === 'uefi') {
      const vars = path.join(s.dir, `${s.name}.OVMF_VARS.fd`);
      if (!existsSync(vars)) copyFileSync(OVMF_VARS, vars);
      a.push('-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${OVMF_CODE}`, '-drive', `if=pflash,format=raw,unit=1,file=${vars}`);
    }
    for (const [n, d] of (s.disks ?? []).entries()) {
      const i = n + (s.cdrom ? 1 : 0); // a CD, when present, boots first
      const snap = d.snapshot === false ? '' : ',snapshot=on';
      if (d.interface === 'usb')
        a.push(
          '-device',
          'qemu-xhci',
          '-drive',
          `if=none,id=usb${i},format=${d.format},file=${d.file}${snap}`,
          '-device',
          `usb-storage,drive=usb${i},bootindex=${i}`,
        );
      else if (d.interface === 'ide')
        a.push('-drive', `if=none,id=d${i},format=${d.format},file=${d.file}${snap}`, '-device', `ide-hd,drive=d${i},bootindex=${i}`);
      else
        a.push(
          '-drive',
          `if=none,id=d${i},format=${d.format},file=${d.file}${snap}`,
          '-device',
          `virtio-blk-pci,drive=d${i},bootindex=${i}`,
        );
    }
    if (s.cdrom) a.push('-drive', `if=none,id=cd,media=cdrom,readonly=on,file=${s.cdrom}`, '-device', 'ide-cd,drive=cd,bootindex=0');
    // User networking with restrict=on: DHCP/TFTP from QEMU itself, nothing routed off this machine
    // (the image's NTP and DNS lookups go nowhere); the only way out is the explicit guestfwd.
    let nic = `user,restrict=on,model=virtio-net-pci${s.mac ? `,mac=${s.mac}` : ''}`;
    if (s.netboot) {
      nic += `,tftp=${s.netboot.tftpDir},bootfile=${s.netboot.bootfile}`;
      if (s.netboot.httpPort) nic += `,guestfwd=tcp:10.0.2.100:80-cmd:socat STDIO TCP:127.0.0.1:${s.netboot.httpPort}`;
    }
    a.push('-nic', nic);
    if (s.netboot) a.push('-boot', 'n');
    if (s.bootOrder) a.push('-boot', s.bootOrder);
    if (s.ignition) a.push('-fw_cfg', `name=opt/com.coreos/config,file=${s.ignition}`);
    return a;
  }

  start(): void {
    this.started = Date.now();
    this.child = execa('qemu-system-x86_64', this.args(), {
      reject: false,
      stdin: 'ignore',
      stdout: 'ignore',
      stderr: 'pipe',
      buffer: false,
    });
    this.child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
  }

  private exited(): boolean {
    return this.child?.exitCode != null || this.child?.signalCode != null;
  }

  /** Polls (a timer keeps node's event loop alive, unlike waiting on the process promise alone). */
  private async waitExit(timeoutSeconds: number): Promise<boolean> {
    const deadline = Date.now() + timeoutSeconds * 1000;
    while (!this.exited() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    return this.exited();
  }

  log(): string {
    return existsSync(this.serialLog) ? readFileSync(this.serialLog, 'utf8') : '';
  }

  /** Waits (bounded) for the probe's END marker and returns its facts with the console log. */
  // generous: a role-image boot under TCG takes 5–8 min on a loaded 2-core machine; the suite's
  // own budget (scripts/suite-summary.mjs) is where slowness shows, not a flaky timeout
  async probe(timeoutSeconds = 900): Promise<Probe> {
    const deadline = Date.now() + timeoutSeconds * 1000;
    for (;;) {
      const facts = probeFacts(existsSync(this.probeLog) ? readFileSync(this.probeLog, 'utf8') : '');
      if (facts) return { facts, log: this.log(), seconds: (Date.now() - this.started) / 1000 };
      if (this.exited())
        throw new Error(
          `${this.spec.name}: QEMU exited (${this.child?.exitCode}) before the probe finished\n${this.stderr}\n${tail(this.log())}`,
        );
      if (Date.now() > deadline) throw new Error(`${this.spec.name}: no probe output within ${timeoutSeconds}s\n${tail(this.log())}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  async kill(): Promise<void> {
    if (!this.child || this.exited()) return;
    this.child.kill('SIGKILL');
    await this.waitExit(30);
  }
}

/** The facts of the last complete probe report in a serial log (BEGIN … END), if there is one. */
export function probeFacts(out: string): Record<string, string> | undefined {
  const end = out.lastIndexOf('KILN-PROBE-END');
  if (end === -1) return undefined;
  const begin = out.lastIndexOf('KILN-PROBE-BEGIN', end);
  const facts: Record<string, string> = {};
  for (const line of out.slice(begin, end).split(/\r?\n/)) {
    const m = /^KILN-PROBE ([^=]+)=(.*)$/.exec(line.trim());
    if (m) facts[m[1]!] = m[2]!.trim();
  }
  return facts;
}

function tail(log: string, lines = 40): string {
  return log.split(/\r?\n/).slice(-lines).join('\n');
}

/** The hostname the default metadata gives a test VM: firstboot applied it when the probe sees it. */
export function testHostname(name: string): string {
  return `kiln-${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`.slice(0, 63).replace(/-+$/, '');
}

/**
 * Metadata for boots that need nothing special: an Ignition config that only sets the hostname
 * (a kiln node without any metadata fails its firstboot unit, by design).
 */
export function withDefaultMetadata(spec: BootSpec): BootSpec {
  if (spec.ignition) return spec;
  const file = path.join(spec.dir, `${spec.name}.ign`);
  const hostname = testHostname(spec.name);
  const config = {
    ignition: { version: '3.4.0' },
    storage: { files: [{ path: '/etc/hostname', mode: 420, overwrite: true, contents: { source: `data:,${hostname}%0A` } }] },
  };
  writeFileSync(file, JSON.stringify(config));
  return { ...spec, ignition: file };
}

/** Boots (with the default metadata unless the spec brings its own), waits for the probe, shuts the VM down. */
export async function bootAndProbe(spec: BootSpec, timeoutSeconds?: number): Promise<Probe> {
  const vm = new Vm(withDefaultMetadata(spec));
  vm.start();
  try {
    return await vm.probe(timeoutSeconds);
  } finally {
    await vm.kill();
  }
}
