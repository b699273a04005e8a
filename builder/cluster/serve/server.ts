// The HTTP server of `kiln cluster serve` (fastify): the chain script, each NIC's node script, the
// image's kernel, initrd and squashfs, each node's seed (to its MAC, until it reports done; then
// 410), and the reports. With --tls-listen the seeds and reports move to a second, HTTPS listener
// (a certificate from the cluster CA, issued at start) and the HTTP one refuses them: iPXE fetches
// only what is public and pinned by hash. Every request is logged as method, path (no query), MAC,
// node and status.
import { timingSafeEqual } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { KilnError } from '../../../core/errors.ts';
import { mkdirs } from '../../../core/fs.ts';
import { schemaProblems } from '../../../core/schema.ts';
import { macFromUrl, REPORT_MAX_BYTES, ReportSchema, type Report } from '../../../node/serve.ts';
import { SERVED_FILES, type ServedNode, type ServePlan } from './plan.ts';
import { issueServingCertificate } from '../pki.ts';
import { ACCESS_LOG, Progress } from './progress.ts';
import { chainScript, nodeScript, provisionedScript, refusedScript } from './scripts.ts';

export interface RunningServer {
  /** Where it listens, e.g. http://127.0.0.1:8080. */
  address: string;
  /** Where the HTTPS listener is, with --tls-listen. */
  tlsAddress?: string;
  progress: Progress;
  /** Calls `listener` after each answered request (the progress may have changed). */
  onResponse(listener: () => void): void;
  close(): Promise<void>;
}

const LISTEN_HINTS: Record<string, string> = {
  EADDRINUSE: 'another program listens on this port: stop it or give --listen another port',
  EACCES: 'ports below 1024 need root (or CAP_NET_BIND_SERVICE): run as root or give --listen a port above 1023',
  EADDRNOTAVAIL: 'no interface of this machine has this address: give --listen one of its addresses (ip -br addr)',
};

const IPXE = 'text/plain; charset=utf-8';

/** The path as logged: no query string (it could carry anything a client put there), no control characters, bounded. */
const loggedPath = (url: string) => JSON.stringify(url.split('?')[0]!.slice(0, 200)).slice(1, -1);

export async function startServer(plan: ServePlan, log: (line: string) => void): Promise<RunningServer> {
  const byMac = new Map<string, ServedNode>(plan.nodes.flatMap((n) => n.macs.map((m) => [m, n] as const)));
  // read (and checked) before listening; nothing is written until the server listens
  const progress = await Progress.open(plan.dir, plan.nodes);
  const sink: { access?: WriteStream } = {};
  const listeners: (() => void)[] = [];
  const early: string[] = []; // lines of requests answered between listening and opening the log
  const newApp = (https?: { key: string; cert: string }): FastifyInstance => {
    const app = Fastify({
      logger: false,
      bodyLimit: REPORT_MAX_BYTES,
      requestTimeout: 30_000,
      // stopping the server ends downloads in flight too
      forceCloseConnections: true,
      ...(https ? { https } : {}),
    }) as unknown as FastifyInstance;
    app.addHook('onResponse', async (request, reply) => {
      const mac = /\/([0-9a-fA-F]{2}(?:-[0-9a-fA-F]{2}){5})(?:[/.]|$)/.exec(request.url)?.[1];
      const node = mac ? byMac.get(macFromUrl(mac) ?? '')?.name : undefined;
      const line = `${new Date().toISOString()} ${request.ip} ${request.method} ${loggedPath(request.url)} ${reply.statusCode}${mac ? ` mac=${macFromUrl(mac)}` : ''}${node ? ` node=${node}` : ''}${https ? ' tls' : ''}`;
      if (sink.access) sink.access.write(`${line}\n`);
      else early.push(line);
      for (const listener of listeners) listener();
    });
    return app;
  };
  const app = newApp();
  const tlsApp = plan.tls
    ? newApp(await issueServingCertificate(plan.tls.ca, new URL(plan.tls.url).hostname).then((c) => ({ key: c.key, cert: c.chain })))
    : undefined;

  const nodeOf = (param: string, reply: FastifyReply): { mac: string; node?: ServedNode } | undefined => {
    const mac = macFromUrl(param);
    if (!mac) {
      void reply.code(404).type(IPXE).send('not a MAC address\n');
      return undefined;
    }
    return { mac, node: byMac.get(mac) };
  };

  app.get('/boot.ipxe', async (_request, reply) => reply.type(IPXE).header('cache-control', 'no-store').send(chainScript(plan)));

  app.get<{ Params: { file: string } }>('/node/:file', async (request, reply) => {
    const found = request.params.file.endsWith('.ipxe') ? nodeOf(request.params.file.slice(0, -5), reply) : undefined;
    if (!found) return reply.sent ? reply : reply.code(404).type(IPXE).send('no such script\n');
    reply.type(IPXE).header('cache-control', 'no-store');
    if (!found.node) {
      log(`refused: a machine with NIC ${found.mac} is not in cluster ${plan.cluster}`);
      return reply.send(refusedScript(plan, found.mac));
    }
    await progress.fetched(found.node.name, 'script');
    if (progress.get(found.node.name).outcome === 'done') return reply.send(provisionedScript(plan, found.node, found.mac));
    log(`${found.node.name}: booting (fetched its boot script, NIC ${found.mac})`);
    return reply.send(nodeScript(plan, found.node, found.mac));
  });

  await app.register(fastifyStatic, { root: plan.pxeDir, serve: false, index: false, dotfiles: 'deny', etag: true });
  app.get<{ Params: { file: string } }>('/pxe/:file', async (request, reply) => {
    const file = request.params.file;
    if (!(SERVED_FILES as readonly string[]).includes(file)) return reply.code(404).send('no such file\n');
    return reply.sendFile(file);
  });

  app.get('/image/disk.raw', async (_request, reply) =>
    plan.disk
      ? reply.sendFile(path.basename(plan.disk.file), path.dirname(plan.disk.file))
      : reply.code(404).send('this image has no disk output\n'),
  );

  const secretRoutes = (on: FastifyInstance) => {
    on.get<{ Params: { mac: string } }>('/seed/:mac/ignition.json', async (request, reply) => {
      const found = nodeOf(request.params.mac, reply);
      if (!found) return reply;
      if (!found.node) return reply.code(404).type(IPXE).send('not a node of this cluster\n');
      const name = found.node.name;
      reply.header('cache-control', 'no-store');
      if (progress.get(name).outcome === 'done') {
        await progress.fetched(name, 'refused');
        log(`${name}: seed asked for again after its first boot was done: refused (410)`);
        return reply.code(410).type(IPXE).send('this node reported its first boot done; its seed is no longer served\n');
      }
      await progress.fetched(name, 'seed');
      log(`${name}: fetched its seed (${progress.get(name).seed.count}×)`);
      return reply.type('application/json').send(found.node.seed);
    });

    on.post<{ Params: { mac: string } }>('/report/:mac', async (request, reply) => {
      const found = nodeOf(request.params.mac, reply);
      if (!found) return reply;
      if (!found.node) return reply.code(404).type(IPXE).send('not a node of this cluster\n');
      const problems = schemaProblems(ReportSchema, request.body, 'report');
      if (problems.length > 0) return reply.code(400).type(IPXE).send(`not a report: ${problems[0]!.path} ${problems[0]!.message}\n`);
      const report = request.body as Report;
      const proofOk = timingSafeEqual(Buffer.from(report.proof, 'hex'), Buffer.from(found.node.proof, 'hex'));
      if (!proofOk) {
        log(`${found.node.name}: a report without the proof of its seed was refused (403)`);
        return reply.code(403).type(IPXE).send('the proof does not match this node’s seed\n');
      }
      // one line in the log, state.json and kiln cluster status, whatever the node sent
      const reason = report.reason?.replace(/\p{Cc}+/gu, ' ');
      await progress.reported(found.node.name, report.outcome, reason);
      log(
        `${found.node.name}: first boot ${report.outcome === 'done' ? 'done; its seed is no longer served' : `FAILED: ${reason ?? 'no reason given'}`}`,
      );
      return reply.code(204).send();
    });
  };
  if (tlsApp) {
    secretRoutes(tlsApp);
    const overTls = (_request: unknown, reply: FastifyReply) =>
      reply.code(403).type(IPXE).send(`seeds and reports are served over HTTPS only: ${plan.tls!.url}\n`);
    app.get('/seed/:mac/ignition.json', overTls);
    app.post('/report/:mac', overTls);
  } else secretRoutes(app);

  const listen = async (on: FastifyInstance, host: string, port: number, flag: string) => {
    try {
      await on.listen({ host, port });
    } catch (cause) {
      await app.close();
      await tlsApp?.close();
      const code = (cause as NodeJS.ErrnoException).code ?? '';
      throw new KilnError(`cannot listen on ${host}:${port}: ${code || (cause as Error).message}`, {
        hint: LISTEN_HINTS[code]?.replace('--listen', flag) ?? `give ${flag} an address and port of this machine that is free`,
        exitCode: 2,
        cause,
      });
    }
  };
  await listen(app, plan.host, plan.port, '--listen');
  if (tlsApp) await listen(tlsApp, plan.tls!.host, plan.tls!.port, '--tls-listen');
  await mkdirs(path.join(plan.dir, 'serve'), 0o755);
  const access = (sink.access = createWriteStream(path.join(plan.dir, ACCESS_LOG), { flags: 'a', mode: 0o644 }));
  for (const line of early.splice(0)) access.write(`${line}\n`);
  await progress.save();
  const addressOf = (on: FastifyInstance, scheme: string) => {
    const bound = on.server.address();
    return typeof bound === 'object' && bound
      ? `${scheme}://${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`
      : undefined;
  };
  return {
    address: addressOf(app, 'http') ?? plan.url,
    ...(tlsApp ? { tlsAddress: addressOf(tlsApp, 'https') ?? plan.tls!.url } : {}),
    progress,
    onResponse: (listener) => listeners.push(listener),
    close: async () => {
      await app.close();
      await tlsApp?.close();
      await progress.save();
      await new Promise<void>((resolve) => access.end(resolve));
    },
  };
}
