// Build progress: a live step list on a TTY, timestamped lines otherwise, JSON events with --json.

export type BuildEvent =
  | { event: 'stage-start'; stage: string; time: string }
  | { event: 'stage-end'; stage: string; time: string; ms: number; detail?: string }
  | { event: 'log'; stage: string; time: string; message: string }
  | { event: 'done'; time: string; ms: number; outDir: string }
  | { event: 'error'; time: string; stage?: string; message: string };

export interface Reporter {
  emit(e: BuildEvent): void;
}

function jsonReporter(out: NodeJS.WritableStream = process.stdout): Reporter {
  return { emit: (e) => out.write(`${JSON.stringify(e)}\n`) };
}

function plainReporter(out: NodeJS.WritableStream = process.stderr): Reporter {
  return {
    emit(e) {
      const text =
        e.event === 'stage-start'
          ? `${e.stage}: started`
          : e.event === 'stage-end'
            ? `${e.stage}: done in ${(e.ms / 1000).toFixed(1)}s${e.detail ? ` (${e.detail})` : ''}`
            : e.event === 'log'
              ? `${e.stage}: ${e.message}`
              : e.event === 'done'
                ? `build finished in ${(e.ms / 1000).toFixed(1)}s: ${e.outDir}`
                : `error${e.stage ? ` in ${e.stage}` : ''}: ${e.message}`;
      out.write(`${e.time} ${text}\n`);
    },
  };
}

/** Redraws the step list in place; the latest log line of the running stage shows beside it. */
function ttyReporter(out: NodeJS.WriteStream = process.stderr): Reporter {
  const steps: Array<{ stage: string; state: 'run' | 'ok' | 'fail'; ms?: number; detail?: string; started: number }> = [];
  let drawn = 0;
  let last = '';
  const draw = () => {
    const width = (out.columns ?? 100) - 1;
    const lines = steps.map((s) => {
      const mark = s.state === 'ok' ? '✔' : s.state === 'fail' ? '✘' : '…';
      const time = s.ms !== undefined ? `${(s.ms / 1000).toFixed(1)}s` : `${((Date.now() - s.started) / 1000).toFixed(0)}s`;
      const tail = s.state === 'run' ? last : (s.detail ?? '');
      return `${mark} ${s.stage.padEnd(10)} ${time.padStart(7)}  ${tail}`.slice(0, width);
    });
    out.write(`${drawn ? `\x1b[${drawn}A` : ''}${lines.map((l) => `\x1b[2K${l}`).join('\n')}\n`);
    drawn = lines.length;
  };
  return {
    emit(e) {
      if (e.event === 'stage-start') steps.push({ stage: e.stage, state: 'run', started: Date.now() });
      else if (e.event === 'stage-end')
        Object.assign(steps.find((s) => s.stage === e.stage) ?? {}, { state: 'ok', ms: e.ms, detail: e.detail });
      else if (e.event === 'log') last = e.message;
      else if (e.event === 'error') {
        const s = steps.find((x) => x.state === 'run');
        if (s) s.state = 'fail';
      }
      if (e.event !== 'done' && e.event !== 'error') draw();
      else {
        draw();
        if (e.event === 'done') out.write(`build finished in ${(e.ms / 1000).toFixed(1)}s: ${e.outDir}\n`);
      }
    },
  };
}

export function pickReporter(json: boolean): Reporter {
  if (json) return jsonReporter();
  return process.stderr.isTTY && process.env.CI !== 'true' ? ttyReporter() : plainReporter();
}
