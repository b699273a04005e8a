// TEST ONLY. Runs one firstboot pass in a child process against a fixture host and a node root,
// so a test can kill it (KILN_FIRSTBOOT_TEST_CRASH_AT) and run it again.
//   KILN_CHILD='{"fixture":"…","root":"…","pass":"late","path":"…"}' node --import tsx test/helpers/firstboot-child.ts
import { treeHost } from '../../firstboot/host.ts';
import { runPass } from '../../firstboot/run.ts';

const { fixture, root, pass, path } = JSON.parse(process.env.KILN_CHILD ?? '{}') as {
  fixture: string;
  root: string;
  pass: 'early' | 'late';
  path: string;
};
const code = await runPass({
  host: treeHost(fixture, root),
  pass,
  out: (l) => process.stdout.write(`${l}\n`),
  role: { env: { PATH: path }, timing: { retryMs: 50, joinAttempts: 5, waitSeconds: 3 } },
});
process.exitCode = code;
