// Which top-level cloud-config keys kiln-firstboot applies, and what it says about the others.
// UNAPPLIED is the upstream cloud-config schema's top-level keys minus the supported ones, embedded
// as data: the product never reads the upstream schema at run time; a unit test checks this list
// against ../shared/upstream/cloud-init/schema-cloud-config-v1.json.
//
// Every key kiln does not apply is a warning, never silently dropped, and never an error: a key that
// is not applied does nothing, so a node configured for cloud-init still boots. Where not applying
// a key matters for safety the message says so (chpasswd and password carry cleartext passwords
// in metadata that anyone with access to the seed can read; kiln ignores them).
import { closest } from '../../../core/schema.ts';
import { KEY_SCHEMAS } from './schema.ts';
import { type Report } from '../../../core/problem.ts';
import { isMapping, seg } from './report.ts';

/** Keys kiln applies; `kiln` (the node config) is kiln's own, not upstream cloud-config. */
export const SUPPORTED_KEYS = [...Object.keys(KEY_SCHEMAS), 'kiln'];

const IMAGE = 'kiln images are built, not changed at boot: put it in the image spec (packages, overlays) and rebuild, or do it in runcmd';
const PACKAGES = "kiln images are built, not patched at boot: add packages to the image spec's packages list and rebuild";
const SSHD = 'put sshd settings in an image overlay (/etc/ssh/sshd_config.d/)';
const HOST_KEYS = 'kiln images make fresh SSH host keys on first boot (the identity overlay); change how in an image overlay';
const STORAGE = 'kiln grows the root filesystem on first boot; put other mounts in an image overlay (systemd .mount units) or bootcmd';
const CLOUD_INIT = 'this configures cloud-init itself, which kiln images do not run';
const PASSWORDS =
  'kiln never applies cleartext passwords: give users a hash with users[].hashed_passwd (`mkpasswd -m sha-512`), or better ssh_authorized_keys';
const VENDOR = 'a vendor or distribution integration kiln does not have; do it in runcmd if you need it';

/** Known cloud-config keys that kiln does not apply, with what to do instead. */
export const UNAPPLIED: Record<string, string> = {
  allow_public_ssh_keys: SSHD,
  ansible: VENDOR,
  apk_repos: PACKAGES,
  apt: PACKAGES,
  apt_pipelining: PACKAGES,
  apt_reboot_if_required: PACKAGES,
  apt_update: PACKAGES,
  apt_upgrade: PACKAGES,
  authkey_hash: SSHD,
  autoinstall: VENDOR,
  byobu_by_default: IMAGE,
  'ca-certs':
    'put CA certificates in an image overlay (/usr/local/share/ca-certificates/) or write_files plus runcmd [update-ca-certificates]',
  ca_certs:
    'put CA certificates in an image overlay (/usr/local/share/ca-certificates/) or write_files plus runcmd [update-ca-certificates]',
  chef: VENDOR,
  chpasswd: PASSWORDS,
  cloud_config_modules: CLOUD_INIT,
  cloud_final_modules: CLOUD_INIT,
  cloud_init_modules: CLOUD_INIT,
  create_hostname_file: 'kiln always writes /etc/hostname when it sets the hostname',
  device_aliases: STORAGE,
  disable_ec2_metadata: CLOUD_INIT,
  disable_root: `${SSHD}; kiln does not change root's SSH login`,
  disable_root_opts: SSHD,
  disk_setup: STORAGE,
  drivers: VENDOR,
  fan: VENDOR,
  final_message: CLOUD_INIT,
  fs_setup: STORAGE,
  growpart: STORAGE,
  'grub-dpkg': IMAGE,
  grub_dpkg: IMAGE,
  keyboard: IMAGE,
  landscape: VENDOR,
  'launch-index': CLOUD_INIT,
  locale: IMAGE,
  locale_configfile: IMAGE,
  lxd: VENDOR,
  manage_resolv_conf: 'kiln images use systemd-resolved; DNS comes from the network config',
  mcollective: VENDOR,
  merge_how: 'kiln reads one cloud-config and does not merge: put everything in one document',
  merge_type: 'kiln reads one cloud-config and does not merge: put everything in one document',
  migrate: CLOUD_INIT,
  mount_default_fields: STORAGE,
  mounts: STORAGE,
  no_ssh_fingerprints: HOST_KEYS,
  output: CLOUD_INIT,
  package_reboot_if_required: PACKAGES,
  package_update: PACKAGES,
  package_upgrade: PACKAGES,
  packages: PACKAGES,
  password: PASSWORDS,
  phone_home: VENDOR,
  power_state: 'do it at the end of runcmd, e.g. [systemctl, reboot]',
  puppet: VENDOR,
  random_seed: 'kiln images seed the kernel RNG from systemd-random-seed',
  reporting: CLOUD_INIT,
  resize_rootfs: STORAGE,
  resolv_conf: 'kiln images use systemd-resolved; DNS comes from the network config',
  rh_subscription: VENDOR,
  rpi: VENDOR,
  rsyslog: 'kiln images log to the journal; forward it with an image overlay (systemd-journal-upload or a journald drop-in)',
  salt_minion: VENDOR,
  snap: PACKAGES,
  spacewalk: VENDOR,
  ssh: HOST_KEYS,
  ssh_deletekeys: HOST_KEYS,
  ssh_fp_console_blacklist: HOST_KEYS,
  ssh_genkeytypes: HOST_KEYS,
  ssh_import_id: 'list the public keys in users[].ssh_authorized_keys',
  ssh_key_console_blacklist: HOST_KEYS,
  ssh_keys: `${HOST_KEYS}; host private keys in metadata are readable by anyone with access to the seed`,
  ssh_publish_hostkeys: HOST_KEYS,
  ssh_pwauth: SSHD,
  ssh_quiet_keygen: HOST_KEYS,
  swap: STORAGE,
  system_info: CLOUD_INIT,
  ubuntu_advantage: VENDOR,
  ubuntu_pro: VENDOR,
  updates: CLOUD_INIT,
  user: 'kiln images have no default user: list accounts under users: with their ssh_authorized_keys',
  vendor_data: CLOUD_INIT,
  version: CLOUD_INIT,
  wireguard: 'put WireGuard in the network config (systemd-networkd .netdev) or an image overlay',
  yum_repo_dir: PACKAGES,
  yum_repos: PACKAGES,
  zypper: PACKAGES,
};

/** One warning per top-level key kiln does not apply: known cloud-config keys, or keys that are not cloud-config. */
export function unsupportedKeyWarnings(config: Record<string, unknown>, report: Report): void {
  for (const key of Object.keys(config)) {
    if (SUPPORTED_KEYS.includes(key)) continue;
    const path = `/${seg(key)}`;
    const hint = UNAPPLIED[key];
    if (hint !== undefined) {
      const what = hint === PASSWORDS ? ' (it carries cleartext passwords; they are ignored)' : '';
      report.warn(path, `cloud-config key "${key}" is not applied by kiln-firstboot${what}`, hint);
      continue;
    }
    const near = closest(key, SUPPORTED_KEYS);
    report.warn(
      path,
      `"${key}" is not a cloud-config key; ignored`,
      near
        ? `did you mean "${near}"? kiln-firstboot applies: ${SUPPORTED_KEYS.join(', ')}`
        : `kiln-firstboot applies: ${SUPPORTED_KEYS.join(', ')}`,
    );
  }
}

/** Keys inside `ntp:` that are cloud-config but not applied. */
export function ntpKeyWarnings(ntp: unknown, report: Report): void {
  if (!isMapping(ntp)) return;
  for (const key of Object.keys(ntp)) {
    if (['enabled', 'servers', 'pools'].includes(key)) continue;
    report.warn(
      `/ntp/${seg(key)}`,
      `ntp key "${key}" is not applied by kiln-firstboot`,
      'kiln configures systemd-timesyncd from ntp.servers and ntp.pools only',
    );
  }
}
