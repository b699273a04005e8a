// The upstream field check itself: it must accept real upstream keys and catch the mistakes the
// upstream README names (a misspelt key, a v1beta3-style map, a bad enum value).
import { describe, expect, it } from 'vitest';
import { kubeDocProblems } from '../../standins/lib/kube-fields.ts';
import { kubeFieldLists } from '../../helpers/upstream.ts';

const lists = kubeFieldLists();

describe('kubeDocProblems', () => {
  it('accepts documents made of upstream keys', () => {
    expect(
      kubeDocProblems(
        {
          apiVersion: 'kubelet.config.k8s.io/v1beta1',
          kind: 'KubeletConfiguration',
          cgroupDriver: 'systemd',
          systemReserved: { cpu: '500m', memory: '1Gi' },
          evictionHard: { 'memory.available': '500Mi' },
        },
        lists,
      ),
    ).toEqual([]);
    expect(
      kubeDocProblems(
        {
          apiVersion: 'kubeadm.k8s.io/v1beta4',
          kind: 'InitConfiguration',
          nodeRegistration: { kubeletExtraArgs: [{ name: 'node-ip', value: '10.0.0.1' }], taints: [] },
          skipPhases: ['addon/kube-proxy'],
        },
        lists,
      ),
    ).toEqual([]);
  });

  it('names keys upstream does not define', () => {
    expect(
      kubeDocProblems({ apiVersion: 'kubelet.config.k8s.io/v1beta1', kind: 'KubeletConfiguration', CgroupDriver: 'systemd' }, lists),
    ).toEqual(['KubeletConfiguration: unknown field "CgroupDriver"']);
    expect(
      kubeDocProblems(
        {
          apiVersion: 'kubeadm.k8s.io/v1beta4',
          kind: 'InitConfiguration',
          nodeRegistration: { kubeletExtraArgs: { 'node-ip': '10.0.0.1' } },
        },
        lists,
      ),
    ).toEqual(['InitConfiguration: unknown field "nodeRegistration.kubeletExtraArgs.node-ip"']);
  });

  it('checks enum values of list items', () => {
    expect(
      kubeDocProblems(
        { apiVersion: 'kubelet.config.k8s.io/v1beta1', kind: 'KubeletConfiguration', enforceNodeAllocatable: ['pods', 'kubesvc-reserved'] },
        lists,
      ),
    ).toEqual([
      'KubeletConfiguration: enforceNodeAllocatable[] = "kubesvc-reserved" is not one of none, pods, system-reserved, system-reserved-compressible, kube-reserved, kube-reserved-compressible',
    ]);
  });

  it('checks enum values and kinds', () => {
    expect(
      kubeDocProblems({ apiVersion: 'kubelet.config.k8s.io/v1beta1', kind: 'KubeletConfiguration', cgroupDriver: 'system' }, lists),
    ).toEqual(['KubeletConfiguration: cgroupDriver = "system" is not one of cgroupfs, systemd']);
    expect(kubeDocProblems({ apiVersion: 'kubeadm.k8s.io/v1beta3', kind: 'InitConfiguration' }, lists)[0]).toMatch(
      /apiVersion "kubeadm.k8s.io\/v1beta3" is not one of/,
    );
    expect(kubeDocProblems({ apiVersion: 'kubeadm.k8s.io/v1beta4', kind: 'InitConfig' }, lists)[0]).toMatch(/has no kind "InitConfig"/);
  });
});
