// The role plan as steps of the late pass: planned from the node config and the node's facts,
// each run by runRoleStep and recorded in the same state journal as the generic steps.
import type { Step } from '../apply/steps.ts';
import type { NodeConfig } from '../../node/config/schema.ts';
import { runRoleStep, type RoleContext } from './actions.ts';
import { DEFAULT_MANIFESTS_DIR } from '../../node/layout.ts';
import { gatherFacts } from './facts.ts';
import { planRole } from './plan.ts';

export type RoleOptions = Pick<RoleContext, 'env' | 'timing'>;

export function roleSteps(
  config: NodeConfig,
  root: string,
  log: (line: string) => void,
  clock: { externalMs: number },
  options: RoleOptions = {},
): { steps: Step[]; ctx: RoleContext } {
  const manifestsDir = config.manifestsDir ?? DEFAULT_MANIFESTS_DIR;
  const facts = gatherFacts(root, manifestsDir);
  const ctx: RoleContext = { root, live: root === '/', config, manifestsDir, facts, log, clock, ...options };
  const steps = planRole(config, facts).map((planned): Step => ({
    name: planned.name,
    pass: 'late',
    when: () => true,
    apply: () => runRoleStep(planned, ctx),
  }));
  return { steps, ctx };
}
