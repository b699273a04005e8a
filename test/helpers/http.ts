// A static file server on 127.0.0.1 for network-boot tests, logging what was fetched.
import { createReadStream, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export interface StaticServer {
  port: number;
  requests: string[];
  close(): Promise<void>;
}

/** Serves `dir` under the URL prefix `mount` (e.g. /kiln/boot-test). */
export async function serveStatic(dir: string, mount: string): Promise<StaticServer> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const url = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    requests.push(`${req.method} ${url}`);
    const rel = url.startsWith(`${mount}/`) ? url.slice(mount.length + 1) : undefined;
    const file = rel && !rel.split('/').includes('..') ? path.join(dir, rel) : undefined;
    let size: number | undefined;
    try {
      size = file ? statSync(file).size : undefined;
    } catch {
      size = undefined;
    }
    if (!file || size === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-length': size, 'content-type': 'application/octet-stream' });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
