// TEST ONLY. The names the program, its build and its tests share: the single executable and the
// tools it stands in for (each a symlink to it in the overlay).
export const PROGRAM = 'kiln-test-standins';
export const TOOL_NAMES = ['kubeadm', 'helm', 'kubectl'] as const;
export type ToolName = (typeof TOOL_NAMES)[number];
