// Disk identifiers are a pure function of the spec hash: fixed per spec, distinct per purpose.
import { describe, expect, it } from 'vitest';
import { derivedUuid, diskIds, fatUuid } from '../../../../builder/outputs/disk/ids.ts';

const HASH = 'a'.repeat(64);
const OTHER = 'b'.repeat(64);

describe('disk ids', () => {
  it('are version-4, RFC 4122 variant UUIDs, stable for a spec hash', () => {
    const ids = diskIds(HASH);
    for (const key of ['disk', 'biosPart', 'espPart', 'rootPart', 'rootFs', 'rootHashSeed'] as const) {
      expect(ids[key]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    expect(diskIds(HASH)).toEqual(ids);
    expect(derivedUuid(HASH, 'part-root')).toBe(ids.rootPart);
    // pinned: changing the derivation changes the bytes of every disk kiln builds
    expect(ids).toEqual({
      disk: 'a89d0508-0933-4cfc-a3b3-8df27844514a',
      biosPart: 'b611f866-e590-4baf-b1c3-e656fecf708d',
      espPart: 'e9d4689c-25b1-4f49-b4ae-31f346772531',
      rootPart: '684286b9-96d3-4fca-b2e2-770dd1c26778',
      rootFs: 'e4213b8f-4a7e-44b7-9cdc-7d7fc816ad08',
      rootHashSeed: '384c0ad9-9d24-4369-95eb-2a224222ee19',
      espVolumeId: '219D02AB',
    });
  });

  it('differ between purposes and between specs', () => {
    const ids = diskIds(HASH);
    const values = Object.values(ids);
    expect(new Set(values).size).toBe(values.length);
    const other = diskIds(OTHER);
    for (const key of Object.keys(ids) as Array<keyof typeof ids>) expect(other[key]).not.toBe(ids[key]);
  });

  it('gives a FAT volume id as 8 hex digits, which GRUB searches as xxxx-xxxx', () => {
    const { espVolumeId } = diskIds(HASH);
    expect(espVolumeId).toMatch(/^[0-9A-F]{8}$/);
    expect(fatUuid('357B68FF')).toBe('357b-68ff');
  });

  it('refuses something that is not a spec hash', () => {
    expect(() => diskIds('abc')).toThrow(/not a spec hash/);
  });
});
