// The image-wide KubeletConfiguration defaults: the image spec's `node.kubelet`, baked as
// /etc/kiln/kubelet-defaults.yaml, and the base of every node config's `kubelet` settings.
import { Type, type Static } from '@sinclair/typebox';
import { hinted, recordOf, Strict } from '../../core/schema.ts';

const Quantity = hinted(
  Type.String({ pattern: '^[0-9]+(\\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$' }),
  'a Kubernetes quantity such as 500m, 1Gi or 10Gi',
);
const ResourceList = Type.Object(
  {
    cpu: Type.Optional(Quantity),
    memory: Type.Optional(Quantity),
    'ephemeral-storage': Type.Optional(Quantity),
    pid: Type.Optional(Type.String({ pattern: '^[0-9]+$' })),
  },
  Strict,
);
const Percent = Type.Integer({ minimum: 0, maximum: 100 });

export const KubeletDefaults = Type.Object(
  {
    maxPods: Type.Optional(Type.Integer({ minimum: 1, maximum: 2500 })),
    systemReserved: Type.Optional(ResourceList),
    kubeReserved: Type.Optional(ResourceList),
    evictionHard: Type.Optional(
      recordOf(
        '^(memory\\.available|nodefs\\.available|nodefs\\.inodesFree|imagefs\\.available|imagefs\\.inodesFree|pid\\.available)$',
        'eviction signals: memory.available, nodefs.available, nodefs.inodesFree, imagefs.available, imagefs.inodesFree, pid.available',
        hinted(Type.String({ pattern: '^[0-9]+(\\.[0-9]+)?(%|Ki|Mi|Gi)?$' }), 'a percentage (10%) or quantity (500Mi)'),
      ),
    ),
    imageGCHighThresholdPercent: Type.Optional(Percent),
    imageGCLowThresholdPercent: Type.Optional(Percent),
    nodeStatusUpdateFrequency: Type.Optional(hinted(Type.String({ pattern: '^[0-9]+(ms|s|m|h)$' }), 'a Go duration such as 10s')),
  },
  { ...Strict, description: 'image-wide KubeletConfiguration defaults; firstboot merges node-specific settings over them' },
);

export type KubeletDefaults = Static<typeof KubeletDefaults>;
