// A network-booted node's first boot, end to end against a real HTTP server on loopback: the config
// fetched by kiln.config= with its pinned hash, and the outcome posted to kiln.report= with the
// proof that the node holds that config.
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT, runPass } from '../../../firstboot/run.ts';
import { seedProof } from '../../../node/serve.ts';
import { tempDir } from '../../helpers/build.ts';
import { makeNodeRoot } from '../../helpers/firstboot.ts';
import { treeHost } from '../../helpers/tree-host.ts';

interface Received {
  method: string;
  url: string;
  body: string;
}

/** Serves `seed` at /seed.ign and answers POST /report with `reportStatus`, keeping every request. */
async function bootServer(seed: Buffer, reportStatus = 204) {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ method: req.method!, url: req.url!, body: Buffer.concat(chunks).toString('utf8') });
      if (req.method === 'GET' && req.url === '/seed.ign') res.writeHead(200).end(seed);
      else if (req.method === 'POST' && req.url === '/report') res.writeHead(reportStatus).end();
      else res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function networkBootedNode(ignition: object, reportStatus?: number) {
  const seed = Buffer.from(JSON.stringify(ignition));
  const server = await bootServer(seed, reportStatus);
  const fixture = tempDir('kiln-fb-report-');
  const root = makeNodeRoot();
  cleanup.push(
    server.close,
    () => rmSync(fixture, { recursive: true, force: true }),
    () => rmSync(root, { recursive: true, force: true }),
  );
  mkdirSync(path.join(fixture, 'proc'));
  const hash = createHash('sha256').update(seed).digest('hex');
  writeFileSync(
    path.join(fixture, 'proc/cmdline'),
    `console=ttyS0 kiln.config=${server.base}/seed.ign kiln.config.hash=sha256-${hash} kiln.report=${server.base}/report\n`,
  );
  const lines: string[] = [];
  const run = (pass: 'early' | 'late') =>
    runPass({ host: treeHost(fixture, root), pass, out: (l) => lines.push(l), report: { attempts: 2, timeoutMs: 2000 } });
  return { seed, server, lines, run };
}

const reports = (received: Received[]) => received.filter((r) => r.method === 'POST').map((r) => JSON.parse(r.body) as unknown);

describe('reporting the first boot to the boot server', () => {
  it('posts "done" once, at the end of the late pass, with the proof of the seed it was served', async () => {
    const node = await networkBootedNode({
      ignition: { version: '3.4.0' },
      storage: { files: [{ path: '/etc/kiln-served', mode: 0o644, contents: { source: 'data:,hello' } }] },
    });
    expect(await node.run('early'), node.lines.join('\n')).toBe(EXIT.ok);
    // the early pass waits for the network: nothing fetched, nothing reported
    expect(node.server.received).toEqual([]);
    expect(await node.run('late'), node.lines.join('\n')).toBe(EXIT.ok);
    expect(node.server.received.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /seed.ign', 'POST /report']);
    expect(reports(node.server.received)).toEqual([{ outcome: 'done', proof: seedProof(node.seed) }]);
    // the proof is not the seed's public hash from the command line
    expect(seedProof(node.seed)).not.toBe(createHash('sha256').update(node.seed).digest('hex'));
    expect(node.lines.join('\n')).toMatch(/reported "done" to the boot server/);
    // a reboot of a provisioned node reports nothing again
    expect(await node.run('late')).toBe(EXIT.ok);
    expect(reports(node.server.received)).toHaveLength(1);
  });

  it('posts "failed" with the reason, secret-free, when the seed is refused', async () => {
    const token = 'abcdef.0123456789abcdef';
    const node = await networkBootedNode({
      ignition: { version: '3.4.0' },
      storage: {
        files: [
          { path: '/etc/kiln-token', contents: { source: `data:,${token}` } },
          { path: '/etc/hosts', overwrite: false, contents: { source: 'data:,x' } },
        ],
      },
    });
    expect(await node.run('late'), node.lines.join('\n')).toBe(EXIT.invalid);
    const [report] = reports(node.server.received) as Array<{ outcome: string; reason: string; proof: string }>;
    expect(report).toEqual({ outcome: 'failed', reason: expect.stringMatching(/problem/), proof: seedProof(node.seed) });
    expect(JSON.stringify(node.server.received.filter((r) => r.method === 'POST'))).not.toContain(token);
  });

  it('warns and still succeeds when the server will not take the report', async () => {
    const node = await networkBootedNode({ ignition: { version: '3.4.0' } }, 500);
    expect(await node.run('late'), node.lines.join('\n')).toBe(EXIT.ok);
    expect(reports(node.server.received)).toHaveLength(2);
    expect(node.lines.join('\n')).toMatch(/warning: could not report "done" to http:\/\/127\.0\.0\.1:\d+\/report \(HTTP 500\)/);
  });
});
