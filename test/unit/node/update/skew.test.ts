import { describe, expect, it } from 'vitest';
import { skewProblem, type NodeRole } from '../../../../node/update/skew.ts';

const problem = (bundle: string, controlPlane: string, role: NodeRole) => skewProblem({ bundle, controlPlane, role });

describe('skewProblem: the version skew policy an update must keep', () => {
  it('lets a control plane take a patch release or the next minor, nothing further', () => {
    expect(problem('v1.31.9', 'v1.31.4', 'control-plane')).toBeUndefined();
    expect(problem('v1.32.0', 'v1.31.4', 'control-plane')).toBeUndefined();
    expect(problem('v1.33.1', 'v1.31.4', 'control-plane')).toEqual({
      message: 'v1.33.1 on a cluster whose control plane runs v1.31.4: 2 minor versions ahead',
      hint: 'control planes upgrade one minor version at a time: update to a v1.32 bundle first',
    });
  });

  it('refuses to downgrade a control plane, pointing at rollback', () => {
    expect(problem('v1.30.9', 'v1.31.4', 'control-plane')?.message).toBe(
      'v1.30.9 on a cluster whose control plane runs v1.31.4: a downgrade of the control plane',
    );
    expect(problem('v1.30.9', 'v1.31.4', 'control-plane')?.hint).toMatch(/roll back to the previous slot/);
  });

  it('keeps a worker at or one minor below the oldest apiserver, never above it', () => {
    expect(problem('v1.31.4', 'v1.31.4', 'worker')).toBeUndefined();
    expect(problem('v1.30.2', 'v1.31.4', 'worker')).toBeUndefined();
    expect(problem('v1.32.0', 'v1.31.4', 'worker')).toEqual({
      message: 'v1.32.0 on a cluster whose control plane runs v1.31.4: the kubelet would be newer than the apiserver',
      hint: 'update every control plane first (kiln cluster update does, in that order)',
    });
    expect(problem('v1.29.0', 'v1.31.4', 'worker')?.message).toMatch(/2 minor versions behind$/);
    expect(problem('v1.29.0', 'v1.31.4', 'worker')?.hint).toMatch(/v1\.31 or v1\.30 bundle/);
  });

  it('refuses a different major version for either role', () => {
    for (const role of ['control-plane', 'worker'] as const)
      expect(problem('v2.0.0', 'v1.31.4', role)?.message).toMatch(/a different major version$/);
  });

  it('refuses a version that is not one, naming which', () => {
    expect(() => problem('1.31.4', 'v1.31.4', 'worker')).toThrow(/the bundle's Kubernetes version "1\.31\.4" is not a Kubernetes version/);
    expect(() => problem('v1.31.4', 'v1.31', 'worker')).toThrow(/control plane's Kubernetes version "v1\.31"/);
  });
});
