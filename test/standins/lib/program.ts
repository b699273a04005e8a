// TEST ONLY. The names the program, its build and its tests share: the single executable and the
// tools it stands in for (kubeadm, helm and kubectl are symlinks to it in the overlay; the API
// server runs as `kiln-test-standins apiserver`).
export const PROGRAM = 'kiln-test-standins';
export const TOOL_NAMES = ['kubeadm', 'helm', 'kubectl', 'apiserver'] as const;
export type ToolName = (typeof TOOL_NAMES)[number];
/** The systemd unit that runs `kiln-test-standins apiserver` in test images (network mode). */
export const APISERVER_UNIT = 'kiln-test-apiserver.service';
