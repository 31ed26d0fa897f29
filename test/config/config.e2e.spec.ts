import { runCli, startService } from '../support/processes';

/** A bad setting stops the process at once, with one message naming the variable. */
describe('configuration errors stop the process', () => {
  it.each([
    ['PORT', 'eighty'],
    ['DATABASE_URL', 'mysql://root@localhost/x'],
    ['ENCRYPTION_KEY', 'short'],
    ['LOG_LEVEL', 'loud'],
    ['DB_POOL_MAX', '0'],
  ])('service: %s=%s → exit 1 naming it', async (name, value) => {
    const service = startService({ [name]: value, DATA_DIR: '/nonexistent/never-created' });
    const code = await service.exited();
    expect(code).toBe(1);
    expect(service.output()).toMatch(new RegExp(`invalid configuration: .*${name}`));
    expect(service.output()).not.toMatch(/listening|embedded PostgreSQL/);
  });

  it('the CLI refuses the same way, with exit code 2', async () => {
    const result = await runCli(['migrate'], { PORT: 'eighty' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/PORT must be an integer/);
  });
});
