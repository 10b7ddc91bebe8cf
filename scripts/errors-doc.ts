/**
 * Writes docs/errors.md from shared/src/errors/codes/ (through codes.ts) (`node --import tsx
 * scripts/errors-doc.ts`). A unit test fails when the two disagree.
 */
import { writeFileSync } from 'node:fs';
import { ERROR_CODES, type ErrorCodeInfo } from '../shared/src/errors/codes.js';

const TITLES: Record<ErrorCodeInfo['domain'], string> = {
  token: 'Call tokens (the gateway, `verifyCallToken`)',
  screening: 'Screening (the company server)',
  call: 'Calls',
  trunk: 'Trunks to the telephone network',
  callback: 'Callbacks (`docs/callbacks.md`)',
  gated: 'Gated facilities (inbound calls to residents)',
  flow: 'Flows and queues (`docs/flows.md`)',
  request: 'Any HTTP API',
  widget: 'Widget (shown to the visitor, never sent)',
  speech: 'Speech (text to speech, transcription: `gateway/src/speech`)',
  config: 'Configuration',
};

const byDomain = new Map<ErrorCodeInfo['domain'], [string, ErrorCodeInfo][]>();
for (const [code, info] of Object.entries(ERROR_CODES) as [string, ErrorCodeInfo][]) {
  byDomain.set(info.domain, [...(byDomain.get(info.domain) ?? []), [code, info]]);
}

let out = `# Error codes

Every error Parley emits has a stable code. HTTP APIs answer
\`{ "error": { "code": "...", "message": "..." } }\` with the HTTP status below. A SIP
refusal carries the SIP status below and the code in its \`Reason\` header
(\`Reason: SIP;cause=403;text="expired"\`). The widget shows the visitor message.

The list lives in \`shared/src/errors/codes/\` (one file per domain, combined in \`codes.ts\`); this page is generated from it by
\`node --import tsx scripts/errors-doc.ts\`, and a test keeps the two in step.
`;
for (const [domain, list] of byDomain) {
  out += `\n## ${TITLES[domain]}\n\n| code | HTTP | SIP | meaning | the visitor sees |\n|---|---|---|---|---|\n`;
  for (const [code, i] of list)
    out += `| \`${code}\` | ${i.http} | ${i.sip} | ${i.message} | ${i.human} |\n`;
}
writeFileSync(new URL('../docs/errors.md', import.meta.url), out);
process.stdout.write(`docs/errors.md: ${Object.keys(ERROR_CODES).length} codes\n`);
