// Writes docs/ERRORS.md from the error registry: `npx tsx scripts/gen-error-docs.ts`.
import { writeFileSync } from 'node:fs';
import { ERROR_CODES } from '../protocol/errors.js';

const rows = Object.entries(ERROR_CODES).map(([c, s]) => `| \`${c}\` | ${s.http} | ${s.grpc} | ${s.description} |`);
writeFileSync(new URL('../docs/ERRORS.md', import.meta.url), `# Error codes

Generated from \`protocol/errors.ts\` by \`npx tsx scripts/gen-error-docs.ts\`; a test checks every code is listed.
Every error carries \`code\`, and where known \`party\` and \`step\`; messages never contain share values, weights or image data.

| code | HTTP | gRPC | meaning |
|---|---|---|---|
${rows.join('\n')}
`);
