import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { infoEnabled, silentLogger, type Logger } from './log.js';

describe('infoEnabled (hot-path info lines build their fields only when written)', () => {
  it('follows the pino logger\'s level; the silent logger writes nothing; a logger without the check writes all', async () => {
    for (const [level, want] of [['warn', false], ['error', false], ['info', true], ['debug', true]] as const) {
      const app = Fastify({ logger: { level, stream: { write() {} } } });
      try { expect(infoEnabled(app.log as unknown as Logger)).toBe(want); } finally { await app.close(); }
    }
    expect(infoEnabled(silentLogger)).toBe(false);
    const lines: string[] = [];
    const plain: Logger = { debug() {}, info(_o, m) { lines.push(m ?? ''); }, warn() {}, error() {}, child() { return plain; } };
    expect(infoEnabled(plain)).toBe(true);
  });
});
