// MIME multi-part user-data, as cloud-init's `make-mime` (and Python's email package) writes it.
// Pure and small: headers (folded lines, parameters), nested multipart/*, and the transfer
// encodings cloud-init's users meet (7bit, 8bit, binary, base64, quoted-printable). The text is
// handled as latin1 so every byte survives; parts keep the line their headers and body start on,
// for messages that point into the file.

export interface MimePart {
  /** 1-based, in document order, counting leaf parts only. */
  index: number;
  /** Lower-case media type, e.g. `text/cloud-config`; `text/plain` when the part has none (RFC 2045). */
  type: string;
  /** 1-based line of the part's first header line in the whole user-data. */
  line: number;
  /** 1-based line of the first body line. */
  bodyLine: number;
  /** True when the body is the file's text as is (7bit, 8bit, binary): its lines are the file's lines. */
  verbatim: boolean;
  body: Buffer;
  filename?: string;
}

export interface MimeProblem {
  line: number;
  message: string;
  hint: string;
}

/** cloud-init looks for `mime-version:` near the top; kiln wants a header block that names the content. */
export function isMime(text: string): boolean {
  const head = text.slice(0, 4096).split(/\r?\n/);
  if (!/^[A-Za-z][A-Za-z0-9-]*:/.test(head[0] ?? '')) return false;
  const end = head.findIndex((l) => l === '');
  return head.slice(0, end === -1 ? undefined : end).some((l) => /^(content-type|mime-version):/i.test(l));
}

export function parseMime(text: string): { parts: MimePart[]; problems: MimeProblem[] } {
  const lines = text.split(/\r?\n/);
  const parts: MimePart[] = [];
  const problems: MimeProblem[] = [];
  entity(lines, 0, lines.length, parts, problems, 0);
  return { parts, problems };
}

/** How deep multipart/* may nest: cloud-init's users nest one or two levels; hostile input thousands. */
export const MIME_DEPTH = 16;

function entity(lines: string[], start: number, end: number, parts: MimePart[], problems: MimeProblem[], depth: number): void {
  if (depth > MIME_DEPTH) {
    problems.push({
      line: start + 1,
      message: `MIME: multipart nested deeper than ${MIME_DEPTH} levels`,
      hint: 'flatten the message: every part can sit in one multipart/mixed',
    });
    return;
  }
  const headers = new Map<string, string>();
  let i = start;
  let last: string | undefined;
  for (; i < end && lines[i] !== ''; i++) {
    const line = lines[i]!;
    if (/^[ \t]/.test(line) && last) {
      headers.set(last, `${headers.get(last)} ${line.trim()}`);
      continue;
    }
    const m = /^([!-9;-~]+):\s*(.*)$/.exec(line);
    if (!m) {
      problems.push({
        line: i + 1,
        // the line itself is not quoted: it may be anything, a password included
        message: 'MIME: this line is not a header line',
        hint: 'a part starts with headers such as Content-Type:, then an empty line, then the content',
      });
      return;
    }
    last = m[1]!.toLowerCase();
    if (!headers.has(last)) headers.set(last, m[2]!);
  }
  const bodyStart = Math.min(i + 1, end);
  const { type, params } = contentType(headers.get('content-type') ?? 'text/plain');

  if (type.startsWith('multipart/')) {
    const boundary = params.get('boundary');
    if (!boundary) {
      problems.push({
        line: start + 1,
        message: `MIME: ${type} without a boundary`,
        hint: 'add boundary="..." to the Content-Type header',
      });
      return;
    }
    const delimiters: number[] = [];
    let closed = -1;
    for (let j = bodyStart; j < end; j++) {
      const l = lines[j]!.replace(/[ \t]+$/, '');
      if (l === `--${boundary}--`) {
        closed = j;
        break;
      }
      if (l === `--${boundary}`) delimiters.push(j);
    }
    if (delimiters.length === 0) {
      problems.push({
        line: start + 1,
        message: `MIME: no part starts with the boundary "--${boundary}"`,
        hint: 'each part starts with a line "--<boundary>"; the last one ends with "--<boundary>--"',
      });
      return;
    }
    const stop = closed === -1 ? end : closed;
    delimiters.forEach((d, k) => entity(lines, d + 1, delimiters[k + 1] ?? stop, parts, problems, depth + 1));
    return;
  }

  const encoding = (headers.get('content-transfer-encoding') ?? '7bit').trim().toLowerCase();
  const raw = lines.slice(bodyStart, end).join('\n');
  let body: Buffer;
  if (['7bit', '8bit', 'binary'].includes(encoding)) body = Buffer.from(raw, 'latin1');
  else if (encoding === 'base64') {
    const b64 = raw.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) {
      problems.push({
        line: bodyStart + 1,
        message: `MIME part ${parts.length + 1} (${type}) is not valid base64`,
        hint: 'encode the part again, e.g. with `cloud-init devel make-mime`',
      });
      return;
    }
    body = Buffer.from(b64, 'base64');
  } else if (encoding === 'quoted-printable') body = quotedPrintable(raw);
  else {
    problems.push({
      line: start + 1,
      message: `MIME part ${parts.length + 1}: unknown Content-Transfer-Encoding "${encoding}"`,
      hint: 'use 7bit, 8bit, base64 or quoted-printable',
    });
    return;
  }
  const filename = contentType(headers.get('content-disposition') ?? '').params.get('filename');
  parts.push({
    index: parts.length + 1,
    type,
    line: start + 1,
    bodyLine: bodyStart + 1,
    verbatim: !['base64', 'quoted-printable'].includes(encoding),
    body,
    ...(filename ? { filename } : {}),
  });
}

/** `type/subtype; name=value; name="quoted value"` → lower-case type and its parameters. */
function contentType(value: string): { type: string; params: Map<string, string> } {
  const [first, ...rest] = value.split(';');
  const params = new Map<string, string>();
  const text = rest.join(';');
  for (const m of text.matchAll(/([!#-'*+.0-9A-Z^-~-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]*)/gi)) {
    const v = m[2]!;
    params.set(m[1]!.toLowerCase(), v.startsWith('"') ? v.slice(1, -1).replace(/\\(.)/g, '$1') : v);
  }
  return { type: (first ?? '').trim().toLowerCase(), params };
}

function quotedPrintable(text: string): Buffer {
  const bytes: number[] = [];
  const lines = text.split('\n');
  lines.forEach((original, i) => {
    let line = original.replace(/[ \t]+$/, '');
    const soft = line.endsWith('=');
    if (soft) line = line.slice(0, -1);
    for (let j = 0; j < line.length; j++) {
      const hex = line.slice(j + 1, j + 3);
      if (line[j] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
        bytes.push(parseInt(hex, 16));
        j += 2;
      } else bytes.push(line.charCodeAt(j) & 0xff);
    }
    if (!soft && i < lines.length - 1) bytes.push(0x0a);
  });
  return Buffer.from(bytes);
}
