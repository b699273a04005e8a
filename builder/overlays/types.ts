// What an overlay asks of the rootfs: files to place, paths to remove. Pure data, applied by compose.

export interface FileOp {
  path: string; // relative to the rootfs root, no leading slash
  type: 'file' | 'directory' | 'symlink';
  mode: number;
  uid?: number;
  /** A number, or a group name looked up in the base rootfs's /etc/group. */
  group?: number | string;
  data?: Buffer;
  /** A file on the build host streamed in place of `data` (large binaries stay out of memory). */
  source?: { file: string; size: number };
  target?: string;
  /** Which overlay produced it (for errors and the manifest). */
  overlay: string;
}

export interface OverlayOps {
  files: FileOp[];
  /** Globs (`*` matches within one path component) of base paths to drop. */
  remove: string[];
}

/** Read-only view of the base rootfs, for overlays that adapt to what packages installed. */
export interface BaseView {
  has(path: string): boolean;
  list(dir: string): string[];
  readText(path: string): Promise<string>;
}
