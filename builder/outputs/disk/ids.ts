// Fixed identifiers for the disk outputs, derived from the spec hash: same spec, same GUIDs,
// UUIDs and volume id, so the same rootfs gives the same disk bytes.
import { createHash } from 'node:crypto';

export interface DiskIds {
  /** GPT disk GUID. */
  disk: string;
  /** GPT partition GUIDs (unique partition GUIDs, what root=PARTUUID= names). */
  biosPart: string;
  espPart: string;
  rootPart: string;
  /** ext4 file system UUID and directory hash seed of the root. */
  rootFs: string;
  rootHashSeed: string;
  /** FAT volume id of the EFI system partition, 8 hex digits. */
  espVolumeId: string;
}

function digest(specHash: string, purpose: string): Buffer {
  return createHash('sha256').update(`kiln-disk:${specHash}:${purpose}`).digest();
}

/** A random-looking (version 4, RFC 4122 variant) UUID that is a pure function of its inputs. */
export function derivedUuid(specHash: string, purpose: string): string {
  const b = digest(specHash, purpose).subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function diskIds(specHash: string): DiskIds {
  if (!/^[0-9a-f]{64}$/.test(specHash)) throw new Error(`not a spec hash: ${specHash}`);
  return {
    disk: derivedUuid(specHash, 'gpt-disk'),
    biosPart: derivedUuid(specHash, 'part-bios'),
    espPart: derivedUuid(specHash, 'part-esp'),
    rootPart: derivedUuid(specHash, 'part-root'),
    rootFs: derivedUuid(specHash, 'fs-root'),
    rootHashSeed: derivedUuid(specHash, 'fs-root-hash-seed'),
    espVolumeId: digest(specHash, 'fs-esp').subarray(0, 4).toString('hex').toUpperCase(),
  };
}

/** How GRUB's `search --fs-uuid` spells a FAT volume id: xxxx-xxxx. */
export function fatUuid(volumeId: string): string {
  return `${volumeId.slice(0, 4)}-${volumeId.slice(4)}`.toLowerCase();
}
