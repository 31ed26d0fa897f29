import { createLogger, FrameworkChatterAtDebug, resolveLogFormat } from './logging';

function capture() {
  const lines: string[] = [];
  return { lines, stream: { write: (text: string) => void lines.push(text) } };
}

describe('log formats', () => {
  it('LOG_FORMAT wins; unset, a terminal gets pretty and anything else JSON', () => {
    expect(resolveLogFormat(undefined, true)).toBe('pretty');
    expect(resolveLogFormat(undefined, false)).toBe('json');
    expect(resolveLogFormat('json', true)).toBe('json');
    expect(resolveLogFormat('pretty', false)).toBe('pretty');
  });

  it('json: one object per line, fields kept, credentials redacted', () => {
    const { lines, stream } = capture();
    createLogger('info', stream, 'json').info({ req: { method: 'GET', path: '/x' }, account: { authToken: 'secret-token' } }, 'GET /x 200 1ms');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ level: 'info', msg: 'GET /x 200 1ms', req: { method: 'GET', path: '/x' }, account: { authToken: '[redacted]' } });
  });

  it('pretty: one short line (time, level, context, message), no fields, redaction first; an error shows its stack', () => {
    const { lines, stream } = capture();
    const logger = createLogger('info', stream, 'pretty');
    logger.info({ context: 'Projector', req: { method: 'GET' }, account: { authToken: 'secret-token' } }, 'leading projection audit');
    logger.error({ err: new TypeError('boom'), account: { authToken: 'secret-token' } }, 'GET /x 500 failed');
    logger.debug('not at info');
    const plain = lines.map((l) => l.replace(/\x1b\[[0-9;]*m/g, ''));
    expect(plain).toHaveLength(2);
    expect(plain[0]).toMatch(/^\[\d{2}:\d{2}:\d{2}\] INFO: Projector: leading projection audit\n$/);
    expect(plain[1]).toMatch(/^\[\d{2}:\d{2}:\d{2}\] ERROR: GET \/x 500 failed\n[\s\S]*TypeError[\s\S]*boom[\s\S]*at /);
    expect(plain.join('')).not.toContain('secret-token');
  });

  it("Nest's module and route lines go to debug; everything else as it came", () => {
    const calls: string[] = [];
    const inner = {
      log: (m: unknown, c: unknown) => void calls.push(`log ${m} ${c}`),
      debug: (m: unknown, c: unknown) => void calls.push(`debug ${m} ${c}`),
      error: (m: unknown) => void calls.push(`error ${m}`),
      warn: (m: unknown) => void calls.push(`warn ${m}`),
    };
    const logger = new FrameworkChatterAtDebug(inner);
    logger.log('AppModule dependencies initialized', 'InstanceLoader');
    logger.log('Mapped {/metrics, GET} route', 'RouterExplorer');
    logger.log('leading projection audit', 'Projector');
    logger.warn('lost the projector connection', 'Projector');
    expect(calls).toEqual([
      'debug AppModule dependencies initialized InstanceLoader',
      'debug Mapped {/metrics, GET} route RouterExplorer',
      'log leading projection audit Projector',
      'warn lost the projector connection',
    ]);
  });
});
