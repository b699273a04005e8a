// The closing lines of every test run: totals, the suite's wall time, the slowest ten tests and a
// per-file timeline (start offset, duration), so a slow CI log says where its minutes went.
//   node scripts/suite-summary.mjs REPORT.json STARTED_AT_EPOCH_SECONDS
import { readFileSync } from 'node:fs';

const [reportFile, startedAt] = process.argv.slice(2);
const report = JSON.parse(readFileSync(reportFile, 'utf8'));
const wall = Date.now() / 1000 - Number(startedAt);
const min = (s) => `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
const rel = (f) => f.name.replace(`${process.cwd()}/`, '');

const tests = report.testResults.flatMap((f) =>
  f.assertionResults.map((t) => ({ file: rel(f), name: t.fullName, ms: t.duration ?? 0, status: t.status })),
);
tests.sort((a, b) => b.ms - a.ms);
console.log('\nslowest ten tests:');
for (const t of tests.slice(0, 10))
  console.log(`  ${(t.ms / 1000).toFixed(0).padStart(5)} s  ${t.file} > ${t.name}${t.status === 'passed' ? '' : ` [${t.status}]`}`);

const t0 = report.startTime;
const files = report.testResults.map((f) => ({ file: rel(f), start: (f.startTime - t0) / 1000, s: (f.endTime - f.startTime) / 1000 }));
files.sort((a, b) => b.s - a.s);
console.log('\nslowest ten files (started at, took):');
for (const f of files.slice(0, 10)) console.log(`  +${min(f.start).padStart(7)}  ${f.s.toFixed(0).padStart(5)} s  ${f.file}`);

const skipped = report.numPendingTests + report.numTodoTests;
console.log(
  `\n${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped — suite wall time ${min(wall)} (budget 45m)`,
);
