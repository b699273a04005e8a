// Ignition config spec 3.0.0 to 3.5.0 as TypeBox schemas: one per version, built from shared pieces
// plus what each version added (upstream: coreos/ignition config/v3_N/schema/ignition.json). Unlike
// upstream, unknown keys are rejected so a typo gets a did-you-mean instead of being ignored.
// Which fields kiln applies, warns about or refuses is decided in the parser, not here: this is the
// whole spec, so every valid Ignition field is at least recognised.
import { Type, type Static, type TObject, type TProperties, type TSchema } from '@sinclair/typebox';
import { hinted, secret } from '../../../core/schema.ts';

export const SUPPORTED_VERSIONS = ['3.0.0', '3.1.0', '3.2.0', '3.3.0', '3.4.0', '3.5.0'] as const;
export type IgnitionVersion = (typeof SUPPORTED_VERSIONS)[number];

/** Strict objects; the hint is what a non-object value is told. */
const obj = <P extends TProperties>(properties: P, hint = `a JSON object with the keys: ${Object.keys(properties).join(', ')}`) =>
  Type.Object(properties, { additionalProperties: false, 'x-hint': hint });
const list = <T extends TSchema>(items: T) => Type.Array(items, { 'x-hint': 'a JSON array, e.g. [ ... ]' });
const opt = Type.Optional;

// Upstream types most scalars as `[T, "null"]`: null means "not set", as in Ignition's Go types.
const nullable = <T extends TSchema>(schema: T, hint: string) => Type.Optional(hinted(Type.Union([schema, Type.Null()]), hint));
const NStr = (hint = 'a string (or null for unset)') => nullable(Type.String(), hint);
/** A secret string: never repeated in a message (core/redact.ts hides it everywhere). */
const SecretStr = (hint: string) => Type.Optional(secret(hinted(Type.Union([Type.String(), Type.Null()]), hint)));
const NBool = () => nullable(Type.Boolean(), 'true or false (or null for unset)');
const NInt = (hint = 'a whole number (or null for unset)') => nullable(Type.Integer(), hint);
const Strings = () => opt(list(Type.String()));

const MODE_HINT = 'a decimal number: Ignition modes are decimal JSON numbers, e.g. 420 for 0644, 493 for 0755, 384 for 0600';
const AbsPath = hinted(Type.String(), 'an absolute path such as /etc/app.conf');
const Name = (what: string) => hinted(Type.String(), `the ${what} name, a string`);

// ---- resources: where contents come from ----------------------------------------------------

const Verification = obj({ hash: NStr('"sha256-<64 hex>" or "sha512-<128 hex>"') });
const HttpHeaders = list(obj({ name: Name('header'), value: NStr() }));
const Source = NStr('a URL: data:, http:// or https:// (kiln fetches only these)');

/** 3.0's file contents (no httpHeaders yet). */
const FileContents30 = obj({ compression: NStr('"gzip" or null'), source: Source, verification: opt(Verification) });
/** 3.0's config and CA references: source required. */
const ConfigReference30 = obj({ source: hinted(Type.Union([Type.String(), Type.Null()]), 'a URL'), verification: opt(Verification) });
const CaReference30 = obj({ source: hinted(Type.String(), 'a URL'), verification: opt(Verification) });
/** 3.1+: one resource shape for contents, configs and CAs. */
const Resource = obj({
  source: Source,
  compression: NStr('"gzip" or null'),
  httpHeaders: opt(HttpHeaders),
  verification: opt(Verification),
});

// ---- ignition -------------------------------------------------------------------------------

const Timeouts = obj({ httpResponseHeaders: NInt('seconds, a whole number'), httpTotal: NInt('seconds, a whole number') });
const ignitionSection = <V extends IgnitionVersion, R extends TSchema, C extends TSchema, X extends Record<string, TSchema>>(
  version: V,
  ref: R,
  ca: C,
  extra: X,
) =>
  obj({
    version: hinted(Type.Literal(version), `"${version}"`),
    config: opt(obj({ merge: opt(list(ref)), replace: opt(ref) })),
    timeouts: opt(Timeouts),
    security: opt(obj({ tls: opt(obj({ certificateAuthorities: opt(list(ca)) })) })),
    ...extra,
  });
const Proxy = <T extends TSchema>(noProxyItem: T) =>
  obj({ httpProxy: NStr('a proxy URL'), httpsProxy: NStr('a proxy URL'), noProxy: opt(list(noProxyItem)) });
const Proxy31 = Proxy(Type.Union([Type.String(), Type.Null()]));
const Proxy34 = Proxy(Type.String());

// ---- storage: the sections kiln applies -----------------------------------------------------

const Owner = obj({ id: NInt('a numeric user or group id'), name: NStr('a user or group name') }, 'an object with id or name');
const NodeProps = { path: AbsPath, overwrite: NBool(), user: opt(Owner), group: opt(Owner) };
const Mode = nullable(Type.Integer(), MODE_HINT);

const File = <R extends TSchema>(resource: R) => obj({ ...NodeProps, mode: Mode, contents: opt(resource), append: opt(list(resource)) });
const Directory = obj({ ...NodeProps, mode: Mode });
const Link30 = obj({ ...NodeProps, target: hinted(Type.String(), 'the path the link points to'), hard: NBool() });
const Link33 = obj({ ...NodeProps, target: NStr('the path the link points to'), hard: NBool() });

// ---- storage: the sections kiln refuses (validated all the same, for precise messages) -------

const partitionProps = {
  label: NStr(),
  number: opt(Type.Integer()),
  sizeMiB: NInt(),
  startMiB: NInt(),
  typeGuid: NStr(),
  guid: NStr(),
  wipePartitionEntry: NBool(),
  shouldExist: NBool(),
};
const Partition30 = obj(partitionProps);
const Partition32 = obj({ ...partitionProps, resize: NBool() });
const Disk = <P extends TSchema>(partition: P) => obj({ device: Type.String(), wipeTable: NBool(), partitions: opt(list(partition)) });

const Raid30 = obj({ name: Name('array'), level: Type.String(), spares: NInt(), devices: list(Type.String()), options: Strings() });
const Raid33 = obj({ name: Name('array'), level: NStr(), spares: NInt(), devices: Strings(), options: Strings() });

const fsProps = {
  path: NStr(),
  device: Type.String(),
  format: NStr(),
  options: Strings(),
  wipeFilesystem: NBool(),
  label: NStr(),
  uuid: NStr(),
};
const Filesystem30 = obj(fsProps);
const Filesystem31 = obj({ ...fsProps, mountOptions: Strings() });

const Tang32 = obj({ url: opt(Type.String()), thumbprint: NStr() });
const Tang34 = obj({ url: opt(Type.String()), thumbprint: NStr(), advertisement: NStr() });
const Clevis32 = obj({
  custom: opt(obj({ pin: Type.String(), config: Type.String(), needsNetwork: NBool() })),
  tpm2: NBool(),
  tang: opt(list(Tang32)),
  threshold: NInt(),
});
const clevis33 = <T extends TSchema>(tang: T) =>
  obj({
    custom: opt(obj({ pin: NStr(), config: NStr(), needsNetwork: NBool() })),
    tpm2: NBool(),
    tang: opt(list(tang)),
    threshold: NInt(),
  });
const luksProps = <C extends TSchema>(clevis: C) => ({
  name: Name('LUKS volume'),
  label: NStr(),
  uuid: NStr(),
  device: NStr(),
  keyFile: opt(Resource),
  wipeVolume: NBool(),
  clevis: opt(clevis),
  options: Strings(),
});
const Luks32 = obj(luksProps(Clevis32));
const Luks33 = obj(luksProps(clevis33(Tang32)));
const luks34Props = { ...luksProps(clevis33(Tang34)), discard: NBool(), openOptions: Strings() };
const Luks34 = obj(luks34Props);
const Luks35 = obj({ ...luks34Props, cex: opt(obj({ enabled: NBool() })) });

// ---- systemd, passwd, kernel arguments ------------------------------------------------------

const Dropin = obj({ name: Name('drop-in file'), contents: NStr('the drop-in text') });
const Unit = obj({
  name: hinted(Type.String(), 'a unit name such as app.service'),
  enabled: NBool(),
  mask: NBool(),
  contents: NStr('the unit file text'),
  dropins: opt(list(Dropin)),
});
const Systemd = obj({ units: opt(list(Unit)) });

const userProps = {
  name: Name('user'),
  passwordHash: SecretStr('a crypt(3) hash, e.g. from `mkpasswd -m yescrypt`'),
  sshAuthorizedKeys: Strings(),
  uid: NInt('a numeric user id'),
  gecos: NStr(),
  homeDir: NStr('an absolute path'),
  noCreateHome: NBool(),
  primaryGroup: NStr('a group name'),
  groups: Strings(),
  noUserGroup: NBool(),
  system: NBool(),
  noLogInit: NBool(),
  shell: NStr('an absolute path such as /bin/bash'),
};
const groupProps = { name: Name('group'), gid: NInt('a numeric group id'), passwordHash: SecretStr('a crypt(3) hash'), system: NBool() };
const Passwd30 = obj({ users: opt(list(obj(userProps))), groups: opt(list(obj(groupProps))) });
const Passwd32 = obj({
  users: opt(list(obj({ ...userProps, shouldExist: NBool() }))),
  groups: opt(list(obj({ ...groupProps, shouldExist: NBool() }))),
});

const KernelArguments = obj({ shouldExist: Strings(), shouldNotExist: Strings() });

// ---- the versions ---------------------------------------------------------------------------

const config = <P extends TProperties>(version: IgnitionVersion, properties: P) =>
  Type.Object(properties, {
    additionalProperties: false,
    $id: `https://kiln.dev/schemas/ignition-${version}.json`,
    title: `Ignition config ${version} as kiln reads it`,
  });

const IgnitionV3_0 = config('3.0.0', {
  ignition: ignitionSection('3.0.0', ConfigReference30, CaReference30, {}),
  storage: opt(
    obj({
      disks: opt(list(Disk(Partition30))),
      raid: opt(list(Raid30)),
      filesystems: opt(list(Filesystem30)),
      files: opt(list(File(FileContents30))),
      directories: opt(list(Directory)),
      links: opt(list(Link30)),
    }),
  ),
  systemd: opt(Systemd),
  passwd: opt(Passwd30),
});

const IgnitionV3_1 = config('3.1.0', {
  ignition: ignitionSection('3.1.0', Resource, Resource, { proxy: opt(Proxy31) }),
  storage: opt(
    obj({
      disks: opt(list(Disk(Partition30))),
      raid: opt(list(Raid30)),
      filesystems: opt(list(Filesystem31)),
      files: opt(list(File(Resource))),
      directories: opt(list(Directory)),
      links: opt(list(Link30)),
    }),
  ),
  systemd: opt(Systemd),
  passwd: opt(Passwd30),
});

const IgnitionV3_2 = config('3.2.0', {
  ignition: ignitionSection('3.2.0', Resource, Resource, { proxy: opt(Proxy31) }),
  storage: opt(
    obj({
      disks: opt(list(Disk(Partition32))),
      raid: opt(list(Raid30)),
      luks: opt(list(Luks32)),
      filesystems: opt(list(Filesystem31)),
      files: opt(list(File(Resource))),
      directories: opt(list(Directory)),
      links: opt(list(Link30)),
    }),
  ),
  systemd: opt(Systemd),
  passwd: opt(Passwd32),
});

const storage33 = <L extends TSchema>(luks: L) =>
  obj({
    disks: opt(list(Disk(Partition32))),
    raid: opt(list(Raid33)),
    luks: opt(list(luks)),
    filesystems: opt(list(Filesystem31)),
    files: opt(list(File(Resource))),
    directories: opt(list(Directory)),
    links: opt(list(Link33)),
  });

const IgnitionV3_3 = config('3.3.0', {
  ignition: ignitionSection('3.3.0', Resource, Resource, { proxy: opt(Proxy31) }),
  storage: opt(storage33(Luks33)),
  systemd: opt(Systemd),
  passwd: opt(Passwd32),
  kernelArguments: opt(KernelArguments),
});

const IgnitionV3_4 = config('3.4.0', {
  ignition: ignitionSection('3.4.0', Resource, Resource, { proxy: opt(Proxy34) }),
  storage: opt(storage33(Luks34)),
  systemd: opt(Systemd),
  passwd: opt(Passwd32),
  kernelArguments: opt(KernelArguments),
});

export const IgnitionV3_5 = config('3.5.0', {
  ignition: ignitionSection('3.5.0', Resource, Resource, { proxy: opt(Proxy34) }),
  storage: opt(storage33(Luks35)),
  systemd: opt(Systemd),
  passwd: opt(Passwd32),
  kernelArguments: opt(KernelArguments),
});

export type IgnitionConfigV3_0 = Static<typeof IgnitionV3_0>;
export type IgnitionConfigV3_1 = Static<typeof IgnitionV3_1>;
export type IgnitionConfigV3_2 = Static<typeof IgnitionV3_2>;
export type IgnitionConfigV3_3 = Static<typeof IgnitionV3_3>;
export type IgnitionConfigV3_4 = Static<typeof IgnitionV3_4>;
export type IgnitionConfigV3_5 = Static<typeof IgnitionV3_5>;
/** Any Ignition config kiln reads. */
export type IgnitionConfig =
  IgnitionConfigV3_0 | IgnitionConfigV3_1 | IgnitionConfigV3_2 | IgnitionConfigV3_3 | IgnitionConfigV3_4 | IgnitionConfigV3_5;

export const IGNITION_SCHEMAS: Record<IgnitionVersion, TObject> = {
  '3.0.0': IgnitionV3_0,
  '3.1.0': IgnitionV3_1,
  '3.2.0': IgnitionV3_2,
  '3.3.0': IgnitionV3_3,
  '3.4.0': IgnitionV3_4,
  '3.5.0': IgnitionV3_5,
};

// Types the parser reads; every version's config is a structural subset of 3.5's (older versions
// lack fields, never have them in another shape), except 3.1-3.3's noProxy accepting null items,
// which the parser only counts.
export type IgnitionFile = NonNullable<NonNullable<IgnitionConfigV3_5['storage']>['files']>[number];
export type IgnitionDirectory = NonNullable<NonNullable<IgnitionConfigV3_5['storage']>['directories']>[number];
export type IgnitionLink = NonNullable<NonNullable<IgnitionConfigV3_5['storage']>['links']>[number];
export type IgnitionResource = Static<typeof Resource>;
export type IgnitionOwner = Static<typeof Owner>;
export type IgnitionUnit = Static<typeof Unit>;
export type IgnitionUser = NonNullable<NonNullable<IgnitionConfigV3_5['passwd']>['users']>[number];
export type IgnitionGroup = NonNullable<NonNullable<IgnitionConfigV3_5['passwd']>['groups']>[number];

/** The schema a JSON pointer into a config leads to (array indices step into items; nullable
 *  unions into their non-null member); undefined when the version has no such place. */
export function schemaAt(root: TSchema, pointer: string): TSchema | undefined {
  let node: TSchema | undefined = root;
  for (const seg of pointer.split('/').slice(1)) {
    if (node?.anyOf) node = (node.anyOf as TSchema[]).find((s) => s.type !== 'null');
    if (node?.type === 'object') node = node.properties?.[seg] as TSchema | undefined;
    else if (node?.type === 'array') node = node.items as TSchema;
    else return undefined;
  }
  return node;
}
