// Which of the kernel's modules the image carries. The server profile leaves out whole subsystems a
// Kubernetes node never drives (sound, media, DRM, wireless, ...) as dpkg path filters, so the
// kernel package's own depmod and initramfs see only what stays; a module that needs a dropped one
// is removed after installation (its modinfo "depends" names a dropped one), so nothing left fails to load.

/** Module directories (under lib/modules/VERSION/kernel/) the server profile leaves out. */
export const SERVER_DROPS = [
  'sound',
  'drivers/media',
  'drivers/gpu',
  'drivers/video/fbdev',
  'drivers/net/wireless',
  'drivers/net/wwan',
  'drivers/net/ieee802154',
  'drivers/net/hamradio',
  'net/wireless',
  'net/mac80211',
  'net/bluetooth',
  'drivers/bluetooth',
  'net/ieee802154',
  'net/nfc',
  'drivers/nfc',
  'drivers/iio',
  'drivers/staging',
  'drivers/comedi',
  'drivers/isdn',
  'drivers/usb/gadget',
  'drivers/input/joystick',
  'drivers/input/tablet',
  'drivers/input/touchscreen',
] as const;

export type ModuleProfile = 'server' | 'all';

export interface ShippedModules {
  profile: ModuleProfile;
  /** More directories to leave out. */
  drop: string[];
  /** Directories the profile drops that this image carries anyway. */
  keep: string[];
}

export const DEFAULT_SHIPPED_MODULES: ShippedModules = { profile: 'server', drop: [], keep: [] };

/** Every directory left out: the profile's, then the spec's, minus the ones kept whole. */
export function droppedDirs(policy: ShippedModules): string[] {
  const profile = policy.profile === 'server' ? SERVER_DROPS : [];
  return [...new Set([...profile, ...policy.drop])].filter((d) => !policy.keep.includes(d));
}

/** Debian ships modules under /lib/modules (usr-merged later to /usr/lib/modules): filter both. */
const ROOTS = ['/lib/modules', '/usr/lib/modules'];

/**
 * dpkg --path-exclude/--path-include options for the policy, in the order dpkg applies them (the
 * last match wins, so a kept directory inside a dropped one is re-included after it).
 */
export function moduleFilters(policy: ShippedModules): string[] {
  const dropped = droppedDirs(policy);
  const within = policy.keep.filter((k) => dropped.some((d) => k.startsWith(`${d}/`)));
  return [
    ...dropped.flatMap((d) => ROOTS.map((r) => `path-exclude=${r}/*/kernel/${d}/*`)),
    ...within.flatMap((k) => ROOTS.map((r) => `path-include=${r}/*/kernel/${k}/*`)),
  ];
}

/**
 * mmdebstrap --customize-hook: removes every module whose modinfo "depends" (set when the kernel was
 * built) names a module that is not there, round by round (bounded), then refreshes depmod. The
 * kernel's symbols cannot be checked instead: Debian's System.map is a stub (the real one is in
 * the -dbg package). "$1" is the new root; only files under its module tree are removed.
 */
export const ORPHAN_MODULES_HOOK = String.raw`set -eu
list="$1/tmp/kiln-modules"; needs="$1/tmp/kiln-module-depends"
for dir in "$1"/usr/lib/modules/*/; do
  k=$(basename "$dir"); round=0
  while :; do
    (cd "$dir" && find kernel -name '*.ko*' -type f | LC_ALL=C sort | sed "s|^|/usr/lib/modules/$k/|") > "$list"
    chroot "$1" xargs -a /tmp/kiln-modules modinfo -0 -F depends | tr '\0\n' '\n ' > "$needs"
    if [ "$(wc -l < "$list")" -ne "$(wc -l < "$needs")" ]; then echo "E: kiln: modinfo did not read every module of $k" >&2; exit 1; fi
    orphans=$(paste -d ' ' "$list" "$needs" | awk '
      function name(p) { sub(/.*\//, "", p); sub(/\.ko.*$/, "", p); gsub("-", "_", p); return p }
      { have[name($1)] = 1; file[NR] = $1; deps[NR] = $2 }
      END { for (i = 1; i <= NR; i++) { n = split(deps[i], d, ","); for (j = 1; j <= n; j++) if (d[j] != "" && !(name(d[j]) in have)) { print file[i]; break } } }')
    [ -n "$orphans" ] || break
    round=$((round + 1))
    if [ "$round" -gt 8 ]; then echo "E: kiln: modules of $k still need missing ones after 8 rounds" >&2; exit 1; fi
    echo "I: kiln: removing $(echo "$orphans" | wc -l) modules that need a dropped one: $(echo "$orphans" | sed 's|.*/||' | tr '\n' ' ')"
    for m in $orphans; do case "$m" in /usr/lib/modules/"$k"/kernel/*) rm -f "$1$m" ;; esac; done
  done
  rm -f "$list" "$needs"
  chroot "$1" depmod -a "$k"
done`;
