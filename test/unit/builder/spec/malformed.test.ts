// Malformed image specs: each row breaks the default spec in one small way and pins down what
// the user is told — the JSON pointer, the message, a hint, and file:line:col pointing at the line.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ValidationError } from '../../../../core/errors.ts';
import {
  all,
  del,
  expectRow,
  mutated as mutateText,
  problemsOf as problemsIn,
  rename,
  set,
  type Mutation,
  type Row,
} from '../../../helpers/malformed.ts';
import { loadSpecFile, parseSpec } from '../../../../builder/spec/load.ts';
import { OUTPUT_FORMATS } from '../../../../builder/outputs/format-names.ts';
import { where } from '../../../../core/problem.ts';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const DEFAULT_SPEC = 'images/debian-bookworm.yaml';
const DEFAULT_TEXT = readFileSync(`${ROOT}${DEFAULT_SPEC}`, 'utf8');
const fixture = (name: string) => `${ROOT}test/fixtures/specs/${name}`;
/** The file name parseSpec is given for mutated specs; every problem must name it. */
const FILE = 'mutated.yaml';

const docker = (settings: object): Mutation => all(set(['runtime', 'engine'], 'docker'), set(['runtime', 'docker'], settings));
const mutated = (mutation: Mutation) => mutateText(DEFAULT_TEXT, mutation);
const problemsOf = (text: string, file = FILE) => problemsIn(parseSpec, text, file);

const rows: Row[] = [
  // --- YAML itself ---
  {
    name: 'YAML syntax error: unclosed flow sequence',
    text: DEFAULT_TEXT.replace('components: [main]', 'components: [main'),
    path: '',
    message: /^YAML syntax: .*not closed/,
    hint: /indentation/,
  },
  {
    name: 'YAML syntax error: unclosed quote',
    text: DEFAULT_TEXT.replace('name: debian-bookworm', 'name: "debian-bookworm'),
    path: '',
    message: /^YAML syntax: /,
    hint: /quoting/,
  },
  {
    name: 'duplicate top-level key',
    text: DEFAULT_TEXT.replace('kind: Image\n', 'kind: Image\nkind: Image\n'),
    path: '',
    message: /YAML syntax: a key appears twice in the same mapping/,
    at: /^kind: Image$/,
  },
  {
    name: 'duplicate nested key',
    text: DEFAULT_TEXT.replace('  suite: bookworm\n', '  suite: bookworm\n  suite: trixie\n'),
    path: '',
    message: /a key appears twice in the same mapping/,
    at: 'suite: trixie',
  },
  {
    name: 'document is a sequence',
    text: '- apiVersion: kiln.dev/v1alpha1\n- kind: Image\n',
    path: '',
    message: 'the image spec must be a YAML mapping',
    hint: DEFAULT_SPEC,
    at: null,
  },
  { name: 'document is a scalar', text: 'debian-bookworm\n', path: '', message: 'the image spec must be a YAML mapping', at: null },
  { name: 'document is empty', text: '# nothing here\n', path: '', message: 'the image spec must be a YAML mapping', at: null },

  // --- identity ---
  {
    name: 'wrong apiVersion',
    mutate: set(['apiVersion'], 'kiln.dev/v1'),
    path: '/apiVersion',
    message: `"kiln.dev/v1": expected 'kiln.dev/v1alpha1'`,
    hint: 'apiVersion: kiln.dev/v1alpha1',
  },
  { name: 'wrong kind', mutate: set(['kind'], 'Node'), path: '/kind', message: `expected 'Image'`, hint: 'kind: Image' },
  // A missing key has no node of its own: it points at the mapping that should hold it.
  {
    name: 'missing name',
    mutate: del(['name']),
    path: '/name',
    message: 'missing required key "name"',
    hint: /lower-case/,
    at: /^\$schema:/,
  },
  {
    name: 'name with capitals and underscore',
    mutate: set(['name'], 'Debian_Bookworm'),
    path: '/name',
    message: /"Debian_Bookworm": expected string to match/,
    hint: 'lower-case letters, digits and dashes',
  },
  {
    name: 'name longer than 63',
    mutate: set(['name'], 'n'.repeat(64)),
    path: '/name',
    message: /expected string to match/,
    hint: /lower-case/,
  },
  {
    name: 'sourceDateEpoch before 1980',
    mutate: set(['sourceDateEpoch'], 5),
    path: '/sourceDateEpoch',
    message: /^5: .*315532800/,
    hint: /1980/,
  },
  {
    name: 'sourceDateEpoch beyond any date the outputs can hold',
    mutate: set(['sourceDateEpoch'], 253402300800),
    path: '/sourceDateEpoch',
    message: /^253402300800: .*4102444799/,
    hint: /2099/,
  },
  {
    name: 'sourceDateEpoch not an integer',
    mutate: set(['sourceDateEpoch'], 1747699200.5),
    path: '/sourceDateEpoch',
    message: 'expected integer',
    hint: /seconds since 1970/,
  },
  {
    name: 'sourceDateEpoch quoted',
    mutate: set(['sourceDateEpoch'], '1747699200'),
    path: '/sourceDateEpoch',
    message: '"1747699200": expected integer',
  },

  // --- unknown keys ---
  {
    name: 'unknown top-level key (typo)',
    mutate: rename(['packages'], 'pakages'),
    path: '/pakages',
    message: 'unknown key "pakages"',
    hint: /did you mean "packages"\?.*allowed here: .*outputs/,
  },
  {
    name: 'unknown top-level key (unrelated)',
    mutate: set(['labels'], { team: 'infra' }),
    path: '/labels',
    message: 'unknown key "labels"',
    hint: /^allowed here: \$schema, apiVersion/,
  },
  {
    name: 'unknown nested key',
    mutate: set(['base', 'release'], '12'),
    path: '/base/release',
    message: 'unknown key "release"',
    hint: 'allowed here: distro, suite, arch, mirror, components',
  },
  {
    name: 'unknown nested key (typo)',
    mutate: rename(['node', 'journald', 'storage'], 'storge'),
    path: '/node/journald/storge',
    message: 'unknown key "storge"',
    hint: 'did you mean "storage"?',
  },
  {
    name: 'unknown slice',
    mutate: set(['node', 'slices', 'pods'], { cpuWeight: 100 }),
    path: '/node/slices/pods',
    message: 'unknown key "pods"',
    hint: 'kubesvc, container, system',
  },

  // --- base ---
  {
    name: 'bad suite',
    mutate: set(['base', 'suite'], 'buster'),
    path: '/base/suite',
    message: '"buster" is not one of: bookworm, trixie',
    hint: /bookworm, trixie/,
  },
  { name: 'bad arch', mutate: set(['base', 'arch'], 'arm64'), path: '/base/arch', message: `"arm64": expected 'amd64'`, hint: /amd64/ },
  {
    name: 'bad distro',
    mutate: set(['base', 'distro'], 'ubuntu'),
    path: '/base/distro',
    message: `"ubuntu": expected 'debian'`,
    hint: /Debian/,
  },
  {
    name: 'mirror is not an http(s)/file URL',
    mutate: set(['base', 'mirror'], 'ftp://ftp.debian.org/debian'),
    path: '/base/mirror',
    message: /"ftp:\/\/ftp\.debian\.org\/debian": expected string to match/,
    hint: /http\(s\):\/\/ or file:\/\//,
  },
  {
    name: 'mirror without scheme',
    mutate: set(['base', 'mirror'], 'deb.debian.org/debian'),
    path: '/base/mirror',
    message: /expected string to match/,
    hint: /snapshot\.debian\.org/,
  },
  {
    name: 'bad component',
    mutate: set(['base', 'components'], ['main', 'free']),
    path: '/base/components/1',
    message: '"free" is not one of: main, contrib, non-free, non-free-firmware',
    at: '- free',
  },
  { name: 'duplicate component', mutate: set(['base', 'components'], ['main', 'main']), path: '/base/components', message: 'unique' },

  // --- packages ---
  {
    name: 'bad package name',
    mutate: set(['packages'], ['jq', 'Vim']),
    path: '/packages/1',
    message: /"Vim": expected string to match/,
    hint: /Debian package name/,
    at: '- Vim',
  },
  {
    name: 'package with a space in the pin',
    mutate: set(['packages'], ['jq= 1.6']),
    path: '/packages/0',
    message: /expected string to match/,
    hint: /name=version/,
    at: '- jq= 1.6',
  },
  {
    name: 'duplicate package',
    mutate: set(['packages'], ['jq', 'jq']),
    path: '/packages',
    message: 'expected array elements to be unique',
    hint: /once/,
  },

  // --- runtime ---
  {
    name: 'unknown runtime engine',
    mutate: set(['runtime', 'engine'], 'podman'),
    path: '/runtime/engine',
    message: '"podman" is not one of: containerd, docker',
    hint: /docker\.io/,
  },
  {
    name: 'runtime is a scalar',
    mutate: set(['runtime'], 'docker'),
    path: '/runtime',
    message: '"docker": expected object',
    hint: /engine/,
  },
  // --- node.shippedModules: each directory becomes a dpkg path filter ---
  {
    name: 'a module directory with ".." (would filter outside the module tree)',
    mutate: set(['node', 'shippedModules'], { drop: ['../../usr/bin'] }),
    path: '/node/shippedModules/drop/0',
    message: /expected string to match/,
    hint: /directory under the kernel module tree.*no globs/,
    at: '../../usr/bin',
  },
  {
    name: 'a module directory that is a glob',
    mutate: set(['node', 'shippedModules'], { keep: ['drivers/*'] }),
    path: '/node/shippedModules/keep/0',
    message: /expected string to match/,
    hint: /no globs/,
    at: 'drivers/*',
  },
  {
    name: 'an unknown module profile',
    mutate: set(['node', 'shippedModules'], { profile: 'minimal' }),
    path: '/node/shippedModules/profile',
    message: /minimal/,
    hint: /server leaves out sound, media, DRM, wireless.*all ships every module/,
    at: 'minimal',
  },
  {
    name: 'keeping a directory nothing leaves out',
    mutate: set(['node', 'shippedModules'], { keep: ['drivers/nvme'] }),
    path: '/node/shippedModules/keep/0',
    message: 'drivers/nvme is not left out, so there is nothing to keep',
    hint: /drivers\/gpu/,
    at: 'drivers/nvme',
  },
  {
    name: 'keeping under profile all (which drops nothing)',
    mutate: set(['node', 'shippedModules'], { profile: 'all', keep: ['sound'] }),
    path: '/node/shippedModules/keep/0',
    message: 'sound is not left out, so there is nothing to keep',
    hint: /profile all drops nothing/,
  },
  {
    name: 'a directory both dropped and kept',
    mutate: set(['node', 'shippedModules'], { drop: ['drivers/infiniband'], keep: ['drivers/infiniband'] }),
    path: '/node/shippedModules/keep/0',
    message: 'drivers/infiniband is both dropped and kept',
  },
  {
    name: 'docker host on tcp://0.0.0.0:2375',
    mutate: docker({ hosts: ['tcp://0.0.0.0:2375'] }),
    path: '/runtime/docker/hosts/0',
    message: '"tcp://0.0.0.0:2375" opens dockerd on an unauthenticated TCP socket',
    hint: /root on the node.*unix:\/\/\/run\/docker\.sock/,
    at: 'tcp://0.0.0.0:2375',
  },
  {
    name: 'docker host as bare ip:port',
    mutate: docker({ hosts: ['unix:///run/docker.sock', '0.0.0.0:2375'] }),
    path: '/runtime/docker/hosts/1',
    message: /unauthenticated TCP socket/,
    hint: /root on the node/,
    at: '0.0.0.0:2375',
  },
  // dockerd reads any address without a scheme as tcp://, hostnames and IPv6 included.
  {
    name: 'docker host as bare hostname:port',
    mutate: docker({ hosts: ['node1.example.com:2375'] }),
    path: '/runtime/docker/hosts/0',
    message: /unauthenticated TCP socket/,
    at: 'node1.example.com:2375',
  },
  {
    name: 'docker host as bare [::]:port',
    mutate: docker({ hosts: ['[::]:2376'] }),
    path: '/runtime/docker/hosts/0',
    message: /unauthenticated TCP socket/,
    at: '[::]:2376',
  },
  {
    name: 'docker host with an unsupported scheme',
    mutate: docker({ hosts: ['udp://0.0.0.0:2375'] }),
    path: '/runtime/docker/hosts/0',
    message: 'is not a socket address dockerd accepts here',
    hint: /unix:\/\/\/run\/docker\.sock or fd:\/\//,
    at: 'udp://',
  },
  {
    name: 'docker hosts empty',
    mutate: docker({ hosts: [] }),
    path: '/runtime/docker/hosts',
    message: /\[\]: expected array length/,
    at: 'hosts: []',
  },
  {
    name: 'docker metrics off loopback',
    mutate: docker({ metricsAddress: '0.0.0.0:9323' }),
    path: '/runtime/docker/metricsAddress',
    message: /"0\.0\.0\.0:9323"/,
    hint: /loopback/,
  },
  {
    name: 'docker settings with engine containerd',
    mutate: set(['runtime', 'docker'], { hosts: ['unix:///run/docker.sock'] }),
    path: '/runtime/docker',
    message: 'docker settings given but engine is not docker',
    hint: /engine: docker/,
  },
  {
    name: 'bad sandbox image',
    mutate: set(['runtime', 'sandboxImage'], 'pause:3.10'),
    path: '/runtime/sandboxImage',
    message: /"pause:3\.10": expected string to match/,
    hint: 'registry.k8s.io/pause:3.10',
  },

  // --- kubernetes ---
  {
    name: 'kubernetes version without v',
    mutate: set(['kubernetes', 'version'], '1.31.4'),
    path: '/kubernetes/version',
    message: /"1\.31\.4": expected string to match/,
    hint: 'v1.31.4',
  },
  {
    name: 'kubernetes version without patch',
    mutate: set(['kubernetes', 'version'], 'v1.31'),
    path: '/kubernetes/version',
    message: /expected string to match/,
    hint: /full release/,
  },
  {
    name: 'unknown Kubernetes minor without sandboxImage',
    mutate: set(['kubernetes', 'version'], 'v1.99.0'),
    path: '/kubernetes/version',
    message: 'kiln does not know the pause image of Kubernetes v1.99.0',
    hint: /runtime\.sandboxImage.*kubeadm config images list/,
  },
  {
    name: 'unknown component',
    mutate: set(['kubernetes', 'components'], ['kubeadm', 'kubelet', 'kube-proxy']),
    path: '/kubernetes/components/2',
    message: '"kube-proxy" is not one of: kubelet, kubeadm, kubectl',
    hint: /kubelet, kubeadm and kubectl/,
    at: '- kube-proxy',
  },
  {
    name: 'empty components',
    mutate: set(['kubernetes', 'components'], []),
    path: '/kubernetes/components',
    message: /\[\]: expected array length to be greater or equal to 1/,
    hint: /at least 1/,
  },
  {
    name: 'kubelet without kubeadm',
    mutate: set(['kubernetes', 'components'], ['kubectl', 'kubelet']),
    path: '/kubernetes/components',
    message: 'kubelet without kubeadm',
    hint: /add kubeadm/,
  },
  // --- binaries ---
  {
    name: 'a binary path that climbs out with ..',
    mutate: set(
      ['binaries'],
      [{ name: 'x', url: 'https://example.org/x', sha256: 'a'.repeat(64), path: '/usr/local/bin/../../../etc/cron.d/x' }],
    ),
    path: '/binaries/0/path',
    message: /does not|expected string to match/,
    hint: /without \. or \.\. components/,
  },
  {
    name: 'kubernetes source with both origins',
    mutate: set(['kubernetes', 'source'], { release: 'https://dl.k8s.io/release', bundle: './b' }),
    path: '/kubernetes/source',
    message: 'release and bundle given',
    hint: /name one origin/,
  },
  {
    name: 'kubernetes source empty',
    mutate: set(['kubernetes', 'source'], {}),
    path: '/kubernetes/source',
    message: 'none of release, bundle or apt given',
    hint: /dl\.k8s\.io/,
  },
  {
    name: 'apt source without its key',
    mutate: set(['kubernetes', 'source'], { apt: { url: 'https://pkgs.k8s.io/core:/stable:/v1.31/deb/' } }),
    path: '/kubernetes/source/apt/key',
    message: 'missing required key "key"',
    hint: /signing key/,
    at: /url: https:\/\/pkgs/,
  },
  {
    name: 'kubernetes images from an apt source',
    mutate: all(
      set(['kubernetes', 'source'], { apt: { url: 'https://pkgs.k8s.io/core:/stable:/v1.31/deb/', key: 'Release.key' } }),
      set(['images'], { kubernetes: {} }),
    ),
    path: '/images/kubernetes',
    message: /there is none it can run before the rootfs is built/,
    hint: /not apt/,
  },
  {
    name: 'release URL with a trailing slash',
    mutate: set(['kubernetes', 'source'], { release: 'https://dl.k8s.io/release/' }),
    path: '/kubernetes/source/release',
    message: /expected string to match/,
    hint: /without a trailing slash/,
  },
  {
    name: 'binary without a checksum',
    mutate: set(['binaries'], [{ name: 'crictl', url: 'https://example.org/crictl.tar.gz', extract: 'crictl' }]),
    path: '/binaries/0',
    message: 'no checksum for crictl',
    hint: /sha256 \(64 hex digits\) or sha256Url/,
  },
  {
    name: 'binary checksum not hex',
    mutate: set(['binaries'], [{ name: 'crictl', url: 'https://example.org/crictl', sha256: 'abc' }]),
    path: '/binaries/0/sha256',
    message: /"abc": expected string to match/,
    hint: /64 hex digits/,
  },
  {
    name: 'binary local file without sha256',
    mutate: set(['binaries'], [{ name: 'crictl', file: './crictl', sha256Url: 'https://example.org/crictl.sha256' }]),
    path: '/binaries/0/sha256',
    message: 'a local file needs its sha256',
    hint: /sha256sum/,
    at: '- name: crictl',
  },
  {
    name: 'binary with both url and file',
    mutate: set(['binaries'], [{ name: 'crictl', url: 'https://example.org/crictl', file: './crictl', sha256: 'a'.repeat(64) }]),
    path: '/binaries/0',
    message: 'both url and file given',
    hint: /one url or one local file/,
  },
  {
    name: 'binary over a kubernetes component',
    mutate: all(
      set(['kubernetes', 'source'], { release: 'https://dl.k8s.io/release' }),
      set(['binaries'], [{ name: 'kubeadm', url: 'https://example.org/kubeadm', sha256: 'a'.repeat(64), path: '/usr/bin/kubeadm' }]),
    ),
    path: '/binaries/0/path',
    message: '/usr/bin/kubeadm is already installed by kubernetes.components (kubeadm)',
    hint: /another name or path/,
  },
  {
    name: 'binary path outside the bin directories',
    mutate: set(['binaries'], [{ name: 'crictl', url: 'https://example.org/crictl', sha256: 'a'.repeat(64), path: '/etc/crictl' }]),
    path: '/binaries/0/path',
    message: /expected string to match/,
    hint: /usr\/local\/bin/,
  },
  // --- images ---
  {
    name: 'preload image without a registry host',
    mutate: set(['images'], { preload: [{ ref: 'library/nginx:1.27' }] }),
    path: '/images/preload/0/ref',
    message: '"library/nginx:1.27" does not name its registry',
    hint: /docker\.io\/library\/nginx/,
  },
  {
    name: 'preload image without tag or digest',
    mutate: set(['images'], { preload: [{ ref: 'registry.k8s.io/pause' }] }),
    path: '/images/preload/0/ref',
    message: 'has neither tag nor digest',
    hint: /implicit latest/,
  },
  {
    name: 'preload image listed twice',
    mutate: set(['images'], { preload: [{ ref: 'registry.k8s.io/pause:3.10' }, { ref: 'registry.k8s.io/pause:3.10' }] }),
    path: '/images/preload/1/ref',
    message: /listed twice \(also \/images\/preload\/0\)/,
    hint: /once/,
  },
  {
    name: 'preload image reference malformed',
    mutate: set(['images'], { preload: [{ ref: 'registry.k8s.io/Pause:3.10' }] }),
    path: '/images/preload/0/ref',
    message: /expected string to match/,
    hint: /registry host, repository and a tag or digest/,
  },
  {
    name: 'kubernetes images without a kubeadm to ask',
    mutate: set(['images'], { kubernetes: {} }),
    path: '/images/kubernetes',
    message: /listed by the kubeadm kiln installs, and there is none/,
    hint: /kubernetes\.source/,
  },
  {
    name: 'kubernetes images pullFrom with a scheme',
    mutate: all(
      set(['kubernetes', 'source'], { release: 'https://dl.k8s.io/release' }),
      set(['images'], { kubernetes: { pullFrom: 'https://reg.lab/k8s' } }),
    ),
    path: '/images/kubernetes/pullFrom',
    message: /expected string to match/,
    hint: /mirror of registry\.k8s\.io/,
  },
  {
    name: 'addon listed twice',
    mutate: set(['addons'], [{ name: 'cilium' }, { name: 'cilium' }]),
    path: '/addons/1/name',
    message: 'cilium is listed twice (also /addons/0)',
    hint: /once/,
  },
  {
    name: 'addons without helm in the image',
    mutate: set(['addons'], [{ name: 'metrics-server' }]),
    path: '/addons',
    message: 'addons are installed with helm, and the image has none',
    hint: /add helm to binaries/,
  },
  {
    name: 'addon pin not hex',
    mutate: set(['addons'], [{ name: 'cilium', sha256: 'xyz' }]),
    path: '/addons/0/sha256',
    message: /"xyz": expected string to match/,
    hint: /64 hex digits/,
  },
  {
    name: 'mirror host given twice',
    mutate: set(['images'], {
      mirrors: [
        { host: 'docker.io', endpoints: ['https://a.lab'] },
        { host: 'docker.io', endpoints: ['https://b.lab'] },
      ],
    }),
    path: '/images/mirrors/1/host',
    message: 'docker.io has mirrors already (/images/mirrors/0)',
    hint: /in the order to try them/,
  },
  {
    name: 'mirror without endpoints',
    mutate: set(['images'], { mirrors: [{ host: 'docker.io', endpoints: [] }] }),
    path: '/images/mirrors/0/endpoints',
    message: /expected array length to be greater or equal to 1/,
  },
  {
    name: 'kubernetes section missing',
    mutate: del(['kubernetes']),
    path: '/kubernetes',
    message: 'missing required key "kubernetes"',
    hint: /version, components/,
    at: /^\$schema:/,
  },

  // --- journald ---
  {
    name: 'journald systemMaxUse as a percentage',
    mutate: set(['node', 'journald', 'systemMaxUse'], '20%'),
    path: '/node/journald/systemMaxUse',
    message: /"20%": expected string to match/,
    hint: /journald rejects percentages/,
  },
  {
    name: 'journald systemKeepFree with a lower-case unit',
    mutate: set(['node', 'journald', 'systemKeepFree'], '1g'),
    path: '/node/journald/systemKeepFree',
    message: /"1g"/,
    hint: /512M or 2G/,
  },
  {
    name: 'bad journald storage',
    mutate: set(['node', 'journald', 'storage'], 'disk'),
    path: '/node/journald/storage',
    message: '"disk" is not one of: persistent, volatile, auto',
    hint: /persistent/,
  },
  {
    name: 'bad time span',
    mutate: set(['node', 'journald', 'rateLimitIntervalSec'], '30 seconds'),
    path: '/node/journald/rateLimitIntervalSec',
    message: /"30 seconds": expected string to match/,
    hint: /time span such as 30s/,
  },
  {
    name: 'journald compress as "yes"',
    mutate: set(['node', 'journald', 'compress'], 'yes'),
    path: '/node/journald/compress',
    message: '"yes": expected boolean',
    hint: 'true or false',
  },

  // --- slices ---
  {
    name: 'bad slice memoryMax',
    mutate: set(['node', 'slices', 'container', 'memoryMax'], '90 percent'),
    path: '/node/slices/container/memoryMax',
    message: /"90 percent": expected string to match/,
    hint: /percentage of RAM/,
  },
  {
    name: 'slice memoryMax over 100%',
    mutate: set(['node', 'slices', 'container', 'memoryMax'], '150%'),
    path: '/node/slices/container/memoryMax',
    message: /"150%"/,
    hint: /infinity/,
  },
  {
    name: 'cpuWeight above 10000',
    mutate: set(['node', 'slices', 'system', 'cpuWeight'], 20000),
    path: '/node/slices/system/cpuWeight',
    message: /^20000: /,
    hint: /1 to 10000/,
  },
  {
    name: 'cpuWeight 0',
    mutate: set(['node', 'slices', 'kubesvc', 'cpuWeight'], 0),
    path: '/node/slices/kubesvc/cpuWeight',
    message: /^0: /,
    hint: /1 to 10000/,
  },
  {
    name: 'memoryHigh above memoryMax (sizes)',
    mutate: set(['node', 'slices', 'kubesvc'], { memoryHigh: '8G', memoryMax: '4G' }),
    path: '/node/slices/kubesvc/memoryHigh',
    message: 'memoryHigh (8G) is above memoryMax (4G)',
    hint: /MemoryHigh throttles before MemoryMax kills/,
  },
  {
    name: 'memoryHigh above memoryMax (percentages)',
    mutate: set(['node', 'slices', 'container', 'memoryHigh'], '95%'),
    path: '/node/slices/container/memoryHigh',
    message: 'memoryHigh (95%) is above memoryMax (90%)',
    at: 'memoryHigh: 95%',
  },

  // --- sysctls and modules ---
  {
    name: 'bad sysctl key',
    mutate: set(['node', 'sysctls'], { 'Net.IPv4.ip_forward': 1 }),
    path: '/node/sysctls/Net.IPv4.ip_forward',
    message: 'invalid key "Net.IPv4.ip_forward"',
    hint: /net\.ipv4\.ip_forward/,
  },
  {
    name: 'sysctl key without a dot',
    mutate: set(['node', 'sysctls'], { swappiness: 10 }),
    path: '/node/sysctls/swappiness',
    message: 'invalid key "swappiness"',
    hint: /sysctl name/,
  },
  {
    name: 'multi-line sysctl value',
    mutate: set(['node', 'sysctls'], { 'kernel.core_pattern': 'core\nkernel.panic = 0' }),
    path: '/node/sysctls/kernel.core_pattern',
    message: /^"core\\nkernel\.panic = 0"/,
    hint: /single-line/,
  },
  {
    name: 'sysctl value as a list',
    mutate: set(['node', 'sysctls'], { 'vm.swappiness': [10] }),
    path: '/node/sysctls/vm.swappiness',
    message: /^\[10\]/,
    hint: /single-line value/,
  },
  {
    name: 'ip_forward set to 0',
    mutate: set(['node', 'sysctls'], { 'net.ipv4.ip_forward': 0 }),
    path: '/node/sysctls/net.ipv4.ip_forward',
    message: 'net.ipv4.ip_forward must stay 1 on a Kubernetes node',
    hint: /pod networking/,
  },
  {
    name: 'ip_forward removed with null',
    mutate: set(['node', 'sysctls'], { 'net.ipv4.ip_forward': null }),
    path: '/node/sysctls/net.ipv4.ip_forward',
    message: 'must stay 1',
    hint: /remove the override/,
  },
  {
    name: 'bridge-nf-call-iptables set to 0',
    mutate: set(['node', 'sysctls'], { 'net.bridge.bridge-nf-call-iptables': '0' }),
    path: '/node/sysctls/net.bridge.bridge-nf-call-iptables',
    message: 'net.bridge.bridge-nf-call-iptables must stay 1',
  },
  {
    name: 'bad kernel module name',
    mutate: set(['node', 'kernelModules'], ['ip_vs', 'br netfilter']),
    path: '/node/kernelModules/1',
    message: /"br netfilter": expected string to match/,
    hint: /br_netfilter/,
    at: '- br netfilter',
  },
  {
    name: 'kernel module given as a path',
    mutate: set(['node', 'kernelModules'], ['/lib/modules/ip_vs.ko']),
    path: '/node/kernelModules/0',
    message: /expected string to match/,
    hint: /kernel module name/,
    at: 'ip_vs.ko',
  },

  // --- kubelet ---
  {
    name: 'bad eviction signal key',
    mutate: set(['node', 'kubelet', 'evictionHard'], { 'memory.free': '500Mi' }),
    path: '/node/kubelet/evictionHard/memory.free',
    message: 'invalid key "memory.free"',
    hint: /memory\.available.*pid\.available/,
  },
  {
    name: 'bad eviction threshold',
    mutate: set(['node', 'kubelet', 'evictionHard'], { 'memory.available': '500MB' }),
    path: '/node/kubelet/evictionHard/memory.available',
    message: /"500MB"/,
    hint: /percentage \(10%\) or quantity \(500Mi\)/,
  },
  {
    name: 'imageGC low equal to high',
    mutate: all(set(['node', 'kubelet', 'imageGCHighThresholdPercent'], 80), set(['node', 'kubelet', 'imageGCLowThresholdPercent'], 80)),
    path: '/node/kubelet/imageGCLowThresholdPercent',
    message: 'must be lower than imageGCHighThresholdPercent',
    hint: /kubelet refuses to start/,
  },
  // The high threshold left out is the default 85: kubelet would still refuse 90.
  {
    name: 'imageGC low above the default high',
    mutate: set(['node', 'kubelet', 'imageGCLowThresholdPercent'], 90),
    path: '/node/kubelet/imageGCLowThresholdPercent',
    message: /must be lower than imageGCHighThresholdPercent \(90 ≥ 85\)/,
    hint: /80 and 85/,
  },
  {
    name: 'imageGC high above 100',
    mutate: set(['node', 'kubelet', 'imageGCHighThresholdPercent'], 101),
    path: '/node/kubelet/imageGCHighThresholdPercent',
    message: /^101: /,
    hint: /100/,
  },
  {
    name: 'maxPods 0',
    mutate: set(['node', 'kubelet', 'maxPods'], 0),
    path: '/node/kubelet/maxPods',
    message: /^0: .*greater or equal to 1/,
    hint: /≥ 1/,
  },
  {
    name: 'bad systemReserved quantity',
    mutate: set(['node', 'kubelet', 'systemReserved'], { memory: '512MB' }),
    path: '/node/kubelet/systemReserved/memory',
    message: /"512MB"/,
    hint: /1Gi/,
  },

  // --- outputs and overlays ---
  {
    name: 'unknown output format',
    mutate: set(['outputs', 0, 'format'], 'floppy'),
    path: '/outputs/0/format',
    message: /^"floppy"( is not one of)?:? /,
    hint: new RegExp(`^known output formats: ${OUTPUT_FORMATS.join(', ')}$`),
    at: 'format: floppy',
  },
  {
    name: 'output key typo',
    mutate: rename(['outputs', 0, 'format'], 'formt'),
    path: '/outputs/0/formt',
    message: 'unknown key "formt"',
    hint: 'did you mean "format"?',
  },
  {
    name: 'empty outputs',
    mutate: set(['outputs'], []),
    path: '/outputs',
    message: /\[\]: expected array length to be greater or equal to 1/,
    hint: /at least 1/,
  },
  {
    name: 'outputs missing',
    mutate: del(['outputs']),
    path: '/outputs',
    message: 'missing required key "outputs"',
    hint: /YAML list/,
    at: /^\$schema:/,
  },
  {
    name: 'overlay without path',
    mutate: set(['overlays'], [{}]),
    path: '/overlays/0/path',
    message: 'missing required key "path"',
    hint: /relative to the spec file/,
    at: '- {}',
  },
  {
    name: 'overlay with an empty path',
    mutate: set(['overlays'], [{ path: '' }]),
    path: '/overlays/0/path',
    message: /^"": /,
    hint: /relative to the spec file/,
    at: 'path: ""',
  },
];

describe('malformed image specs', () => {
  it('has a broad table', () => {
    expect(rows.length).toBeGreaterThanOrEqual(35);
    expect(new Set(rows.map((r) => r.name)).size).toBe(rows.length);
  });

  it.each(rows)('$name → $path', (row) => {
    const text = row.text ?? mutated(row.mutate!);
    expectRow(row, text, problemsOf(text), FILE);
  });
});

describe('many problems at once', () => {
  const file = fixture('many-errors.yaml');
  const text = readFileSync(file, 'utf8');

  it('reports every problem, each located and hinted, sorted by line', () => {
    const problems = problemsOf(text, file);
    expect(problems.length).toBeGreaterThanOrEqual(5);
    expect(problems.map((p) => p.path)).toEqual(
      expect.arrayContaining([
        '/name',
        '/base/suite',
        '/runtime/docker/hosts/0',
        '/kubernetes/components',
        '/node/journald/systemMaxUse',
        '/node/sysctls/net.ipv4.ip_forward',
        '/node/kubelet/imageGCLowThresholdPercent',
      ]),
    );
    const positions = problems.map((p) => {
      const m = new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+):(\\d+)$`).exec(where(p));
      expect(m, `${where(p)} is not ${file}:line:col`).not.toBeNull();
      expect(p.hint?.trim()).toBeTruthy();
      return [Number(m![1]), Number(m![2])] as const;
    });
    const sorted = [...positions].sort(([la, ca], [lb, cb]) => la - lb || ca - cb);
    expect(positions).toEqual(sorted);
    expect(new Set(positions.map(([l]) => l)).size).toBeGreaterThanOrEqual(5);
  });

  it('reports problems from mutations anywhere in the file, in file order', () => {
    const text = mutated(
      all(
        set(['outputs'], []),
        set(['kind'], 'Node'),
        set(['node', 'journald', 'systemMaxUse'], '20%'),
        set(['base', 'arch'], 'arm64'),
        set(['kubernetes', 'version'], 'v1.99.0'),
        rename(['packages'], 'pakages'),
      ),
    );
    const problems = problemsOf(text);
    expect(problems.map((p) => p.path)).toEqual([
      '/kind',
      '/base/arch',
      '/pakages',
      '/kubernetes/version',
      '/node/journald/systemMaxUse',
      '/outputs',
    ]);
    const lines = problems.map((p) => Number(/:(\d+):\d+$/.exec(where(p))![1]));
    expect(lines).toEqual([...lines].sort((a, b) => a - b));
  });

  it('reports a YAML syntax error with its position instead of schema problems', async () => {
    const file = fixture('syntax-error.yaml');
    const problems = problemsOf(readFileSync(file, 'utf8'), file);
    expect(problems.length).toBeGreaterThanOrEqual(1);
    for (const p of problems) {
      expect(p.path).toBe('');
      expect(p.message).toMatch(/^YAML syntax: /);
      expect(where(p)).toMatch(/syntax-error\.yaml:\d+:\d+$/);
      expect(p.hint).toBeTruthy();
    }
    await expect(loadSpecFile(file)).rejects.toBeInstanceOf(ValidationError);
  });
});

describe('valid specs resolve their defaults', () => {
  it('the default spec', async () => {
    const spec = await loadSpecFile(`${ROOT}${DEFAULT_SPEC}`);
    expect(spec.name).toBe('debian-bookworm');
    expect(spec.runtime.engine).toBe('containerd');
    expect(spec.runtime.sandboxImage).toBe('registry.k8s.io/pause:3.10');
    expect(spec.kubernetes).toEqual({ version: 'v1.31.4', components: ['kubeadm', 'kubectl', 'kubelet'] });
    expect(spec.base.components).toEqual(['main']);
    expect(spec.outputs).toEqual(['tar', 'raw', 'qcow2', 'iso', 'pxe']);
    expect(spec.hash).toMatch(/^[0-9a-f]{64}$/);

    const sysctls = new Map(spec.node.sysctls);
    expect(sysctls.get('net.ipv4.ip_forward')).toBe('1');
    expect(sysctls.get('net.ipv4.ip_nonlocal_bind')).toBe('1');
    expect(sysctls.get('net.ipv6.ip_nonlocal_bind')).toBe('1');
    // Not ours to change: kube-proxy and the kubelet own the ephemeral port range.
    expect(sysctls.has('net.ipv4.ip_local_port_range')).toBe(false);
    const keys = spec.node.sysctls.map(([k]) => k);
    expect(keys).toEqual([...keys].sort());
    expect(spec.node.sysctls.every(([, v]) => typeof v === 'string')).toBe(true);

    expect(spec.packages).toEqual(expect.arrayContaining(['containerd', 'keepalived', 'linux-image-amd64']));
    expect(spec.packages).not.toContain('docker.io');
    expect(spec.packages).toEqual([...new Set(spec.packages)].sort());
    expect(spec.node.kernelModules).toEqual(expect.arrayContaining(['overlay', 'br_netfilter']));
    expect(spec.node.journald.systemMaxUse).toBe('2G');
    expect(spec.node.slices.container).toMatchObject({ memoryHigh: '85%', memoryMax: '90%' });
  });

  it('a docker variant (fixture)', async () => {
    const spec = await loadSpecFile(fixture('docker.yaml'));
    expect(spec.runtime.engine).toBe('docker');
    expect(spec.runtime.sandboxImage).toBe('registry.k8s.io/pause:3.10');
    expect(spec.runtime.docker.hosts).toEqual(['unix:///run/docker.sock', 'fd://']);
    expect(spec.runtime.docker.metricsAddress).toBe('127.0.0.1:9323');
    expect(spec.packages).toEqual(expect.arrayContaining(['docker.io', 'containerd', 'keepalived', 'linux-image-amd64', 'jq']));
    expect(spec.kubernetes.components).toEqual(['kubeadm', 'kubelet']);
    const sysctls = new Map(spec.node.sysctls);
    expect(sysctls.get('vm.swappiness')).toBe('10');
    expect(sysctls.has('kernel.panic')).toBe(false); // null drops a default
    expect(sysctls.get('kernel.panic_on_oops')).toBe('1');
    expect(spec.node.kernelModules).toEqual(expect.arrayContaining(['overlay', 'br_netfilter', 'ip_vs']));
  });

  it('a docker variant of the default spec adds docker.io and nothing else', () => {
    const base = parseSpec(DEFAULT_TEXT, FILE);
    const spec = parseSpec(mutated(set(['runtime', 'engine'], 'docker')), FILE);
    expect(spec.runtime.engine).toBe('docker');
    expect(spec.runtime.docker.hosts.length).toBeGreaterThan(0);
    expect(spec.packages.filter((p) => !base.packages.includes(p))).toEqual(['docker.io']);
    expect(spec.hash).not.toBe(base.hash);
  });

  it('null removes a default sysctl, a value overrides one', () => {
    const spec = parseSpec(
      mutated(set(['node', 'sysctls'], { 'net.ipv6.ip_nonlocal_bind': null, 'fs.inotify.max_user_watches': 1048576 })),
      FILE,
    );
    const sysctls = new Map(spec.node.sysctls);
    expect(sysctls.has('net.ipv6.ip_nonlocal_bind')).toBe(false);
    expect(sysctls.get('net.ipv4.ip_nonlocal_bind')).toBe('1');
    expect(sysctls.get('fs.inotify.max_user_watches')).toBe('1048576');
  });

  it('an unknown Kubernetes minor is fine with an explicit sandboxImage', () => {
    const spec = parseSpec(
      mutated(all(set(['kubernetes', 'version'], 'v1.99.0'), set(['runtime', 'sandboxImage'], 'registry.example.com:5000/pause:3.11'))),
      FILE,
    );
    expect(spec.runtime.sandboxImage).toBe('registry.example.com:5000/pause:3.11');
  });

  it('percentages and sizes are not compared with each other', () => {
    const spec = parseSpec(mutated(set(['node', 'slices', 'container'], { memoryHigh: '8G', memoryMax: '90%' })), FILE);
    expect(spec.node.slices.container).toMatchObject({ memoryHigh: '8G', memoryMax: '90%' });
  });
});

describe('spec hash', () => {
  /** Reverses the key order of every mapping, recursively. */
  const reversed = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(reversed)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.entries(v)
              .reverse()
              .map(([k, x]) => [k, reversed(x)]),
          )
        : v;

  it('does not depend on key order, comments, list order of sets, or where the file lives', () => {
    const reference = parseSpec(DEFAULT_TEXT, DEFAULT_SPEC).hash;
    const shuffled = stringify(reversed(parse(DEFAULT_TEXT)));
    expect(shuffled.indexOf('outputs')).toBeLessThan(shuffled.indexOf('apiVersion'));
    expect(parseSpec(shuffled, '/elsewhere/other-name.yaml').hash).toBe(reference);
    expect(parseSpec(mutated(set(['kubernetes', 'components'], ['kubelet', 'kubectl', 'kubeadm'])), FILE).hash).toBe(reference);
    // Spelling out a default is the same image as leaving it out.
    expect(parseSpec(mutated(set(['node', 'journald', 'systemMaxFileSize'], '128M')), FILE).hash).toBe(reference);
  });

  it.each([
    ['journald systemMaxUse', set(['node', 'journald', 'systemMaxUse'], '3G')],
    ['name', set(['name'], 'debian-bookworm-2')],
    ['sourceDateEpoch', set(['sourceDateEpoch'], 1747699201)],
    ['a package', set(['packages'], ['jq'])],
    ['a sysctl', set(['node', 'sysctls'], { 'vm.swappiness': 10 })],
    ['kubernetes version', set(['kubernetes', 'version'], 'v1.31.5')],
  ])('changes when %s changes', (_what, mutation) => {
    const reference = parseSpec(DEFAULT_TEXT, DEFAULT_SPEC).hash;
    expect(parseSpec(mutated(mutation), FILE).hash).not.toBe(reference);
  });
});
