// TEST ONLY. Runs one firstboot pass in a child process against a fixture host and a node root,
// so a test can kill it at a step boundary (crashAt, a checkpoint name) and run it again.
//   KILN_CHILD='{"fixture":"…","root":"…","pass":"late","path":"…","crashAt":"…"}' node --import tsx test/helpers/firstboot-child.ts
import { runPass } from '../../firstboot/run.ts';
import { treeHost } from './tree-host.ts';

const { fixture, root, pass, path, crashAt } = JSON.parse(process.env.KILN_CHILD ?? '{}') as {
  fixture: string;
  root: string;
  pass: 'early' | 'late';
  path: string;
  /** `<step>` (after the step is recorded) or `<step>:unrecorded` (after its effects, before the journal knows). */
  crashAt?: string;
};
const code = await runPass({
  host: {
    ...treeHost(fixture, root),
    // killed as a crash would kill it: no cleanup, no exit handlers
    checkpoint: (point) => {
      if (point === crashAt) process.kill(process.pid, 'SIGKILL');
    },
  },
  pass,
  out: (l) => process.stdout.write(`${l}\n`),
  role: { env: { PATH: path }, timing: { retryMs: 50, joinAttempts: 5, waitSeconds: 3 } },
});
process.exitCode = code;
