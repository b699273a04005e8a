// Watching VIPs from inside a test cluster's network namespace: who answers ARP for an address
// (every holder replies, so two holders show as two MACs), and how long a VIP stops answering
// pings while VRRP fails over. Everything runs in the namespace: nothing leaves this machine.
import { execa } from 'execa';

/** The MACs (lower case) that answer ARP for `ip` on `bridge`, from `count` probes. */
export async function arpHolders(netns: string, bridge: string, ip: string, count = 3): Promise<string[]> {
  const r = await execa('ip', ['netns', 'exec', netns, 'arping', '-c', String(count), '-w', String(count + 1), '-I', bridge, ip], {
    reject: false,
  });
  const macs = [...r.stdout.matchAll(/reply from \S+ \[([0-9A-Fa-f:]{17})\]/g)].map((m) => m[1]!.toLowerCase());
  return [...new Set(macs)].sort();
}

/** Polls until exactly one MAC answers for `ip` and `accept` it, or the deadline passes; returns the last answer. */
export async function waitForHolder(
  netns: string,
  bridge: string,
  ip: string,
  accept: (mac: string) => boolean,
  seconds: number,
): Promise<string[]> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const holders = await arpHolders(netns, bridge, ip, 1);
    if ((holders.length === 1 && accept(holders[0]!)) || Date.now() > deadline) return holders;
    await new Promise((r) => setTimeout(r, 500));
  }
}

export interface PingWatch {
  /**
   * The longest silence (s) between two answered pings from the last answer before `from` to the
   * first answer after `to` (epoch ms): the outage of a power-off that happened between the two.
   */
  longestGap(from: number, to: number, timeoutSeconds: number): Promise<number>;
  stop(): void;
}

/** Pings `ip` every 100 ms from the namespace (bounded by `maxSeconds`), timestamping each answer. */
export function watchPings(netns: string, ip: string, maxSeconds: number): PingWatch {
  const replies: number[] = [];
  const child = execa('ip', ['netns', 'exec', netns, 'ping', '-D', '-n', '-i', '0.1', '-W', '1', '-w', String(maxSeconds), ip], {
    reject: false,
    buffer: false,
  });
  let pending = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      const m = /^\[(\d+\.\d+)\] \d+ bytes from/.exec(line);
      if (m) replies.push(Number(m[1]) * 1000);
    }
  });
  return {
    async longestGap(from, to, timeoutSeconds) {
      const deadline = Date.now() + timeoutSeconds * 1000;
      while (!replies.some((t) => t > to)) {
        if (Date.now() > deadline) throw new Error(`${ip} did not answer within ${timeoutSeconds} s of the failover`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const first = replies.filter((t) => t <= from).length - 1;
      if (first === -1) throw new Error(`${ip} never answered before the failover`);
      const last = replies.findIndex((t) => t > to);
      let gap = 0;
      for (let i = first; i < last; i++) gap = Math.max(gap, replies[i + 1]! - replies[i]!);
      return gap / 1000;
    },
    stop: () => void child.kill('SIGINT'),
  };
}

/** Pings `ip`, runs `powerOff` (of its holder), and returns the seconds `ip` stayed silent. */
export async function failoverGap(netns: string, ip: string, powerOff: () => Promise<unknown>): Promise<number> {
  const pings = watchPings(netns, ip, 600);
  try {
    await new Promise((r) => setTimeout(r, 2000)); // a few answers from the holder first
    const from = Date.now();
    await powerOff();
    return await pings.longestGap(from, Date.now(), 60);
  } finally {
    pings.stop();
  }
}
