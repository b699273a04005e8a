// Published checksum formats: dl.k8s.io's bare-hex .sha256, helm's "<hex>  <name>", sha256sum lists.
import { describe, expect, it } from 'vitest';
import { ChecksumFormatError, findByBaseName, parseChecksumFile, parseChecksumList } from '../../../../builder/binaries/checksums.ts';

const A = 'a'.repeat(64);
const B = 'B'.repeat(64);

describe('parseChecksumFile', () => {
  it('reads bare hex (dl.k8s.io) and "<hex>  <name>" (helm), lower-casing', () => {
    expect(parseChecksumFile(`${A}`)).toBe(A);
    expect(parseChecksumFile(`${B}  helm-v3.16.3-linux-amd64.tar.gz\n`)).toBe('b'.repeat(64));
  });
  it('refuses anything that is not 64 hex digits first', () => {
    expect(() => parseChecksumFile('<html>Not Found</html>')).toThrow(ChecksumFormatError);
    expect(() => parseChecksumFile('abc')).toThrow(/expected 64 hex digits, found "abc"/);
    expect(() => parseChecksumFile('')).toThrow(ChecksumFormatError);
  });
});

describe('parseChecksumList', () => {
  it("reads sha256sum's text and binary modes, skips comments, drops ./", () => {
    const list = parseChecksumList(`# kiln bundle\n${A}  kubeadm\n${B} *./bin/kubelet\n\n`);
    expect([...list]).toEqual([
      ['kubeadm', A],
      ['bin/kubelet', 'b'.repeat(64)],
    ]);
  });
  it('names the bad line', () => {
    expect(() => parseChecksumList(`${A}  kubeadm\nkubelet ${A}\n`)).toThrow(/line 2 is not "<sha256> {2}<path>"/);
  });
  it('refuses one path listed with two checksums', () => {
    expect(() => parseChecksumList(`${A}  kubeadm\n${B}  kubeadm\n`)).toThrow(/kubeadm is listed twice/);
  });
});

describe('findByBaseName', () => {
  const list = parseChecksumList(`${A}  bin/linux/amd64/kubeadm\n${B}  kubectl\n${A}  a/kubelet\n${B}  b/kubelet\n`);
  it('finds a binary at the top or in a sub-directory, never by suffix alone', () => {
    expect(findByBaseName(list, 'kubeadm')).toEqual({ path: 'bin/linux/amd64/kubeadm', sha256: A });
    expect(findByBaseName(list, 'kubectl')).toEqual({ path: 'kubectl', sha256: 'b'.repeat(64) });
    expect(findByBaseName(list, 'adm')).toEqual({ error: 'lists no adm' });
  });
  it('refuses an ambiguous name', () => {
    expect(findByBaseName(list, 'kubelet')).toEqual({ error: 'lists kubelet more than once (a/kubelet, b/kubelet)' });
  });
});
