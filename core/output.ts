// The programs' only way to the terminal: what they print passes the redaction layer first (lint
// forbids process.stdout/stderr.write elsewhere), so no message path can show a secret.
import { redactText } from './redact.ts';

export function writeOut(text: string): void {
  process.stdout.write(redactText(text));
}

export function writeErr(text: string): void {
  process.stderr.write(redactText(text));
}
