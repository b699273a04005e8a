// A real registry (Debian's docker-registry) on a loopback port, and a small OCI image the tests
// build themselves (one layer, deterministic bytes) pushed into it with skopeo.
import { execa, type ResultPromise } from 'execa';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tar from 'tar-stream';

export interface Registry {
  host: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export async function startRegistry(dir: string): Promise<Registry> {
  const port = await freePort();
  mkdirSync(path.join(dir, 'store'), { recursive: true });
  const config = path.join(dir, 'config.yml');
  writeFileSync(
    config,
    `version: 0.1\nlog: { level: error, accesslog: { disabled: true } }\nstorage: { filesystem: { rootdirectory: ${path.join(dir, 'store')} } }\nhttp: { addr: 127.0.0.1:${port} }\n`,
  );
  const child: ResultPromise = execa('docker-registry', ['serve', config], { reject: false, stdio: 'ignore' });
  const host = `127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`http://${host}/v2/`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { host, stop: async () => void (child.kill(), await child) };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error(`docker-registry did not answer on ${host}`);
}

/** Builds a one-layer OCI image (a text file) as a layout in `dir`; `text` makes it unique. */
export async function buildTestImage(dir: string, text: string): Promise<void> {
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  mkdirSync(path.join(dir, 'blobs/sha256'), { recursive: true });
  const blob = (b: Buffer) => {
    const h = sha(b);
    writeFileSync(path.join(dir, 'blobs/sha256', h), b);
    return { digest: `sha256:${h}`, size: b.length };
  };
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => void chunks.push(c as Buffer));
  const ended = new Promise<void>((r) => pack.on('end', () => r()));
  pack.entry({ name: 'hello.txt', mtime: new Date(0), mode: 0o644, uid: 0, gid: 0 }, text);
  pack.finalize();
  await ended;
  const layer = blob(Buffer.concat(chunks));
  const config = blob(
    Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [layer.digest] } })),
  );
  const manifest = blob(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
      }),
    ),
  );
  writeFileSync(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    path.join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest }] }),
  );
}

/** Pushes a test image to `ref` (plain HTTP) and returns the digest the registry serves it under. */
export async function pushTestImage(workDir: string, ref: string, text: string): Promise<string> {
  const layout = path.join(
    workDir,
    `layout-${createHash('sha256')
      .update(ref + text)
      .digest('hex')
      .slice(0, 8)}`,
  );
  await buildTestImage(layout, text);
  await execa('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${layout}`, `docker://${ref}`]);
  const { stdout } = await execa('skopeo', ['inspect', '--tls-verify=false', '--format', '{{.Digest}}', `docker://${ref}`]);
  return stdout.trim();
}
