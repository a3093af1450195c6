import { serializeError } from './logger';

describe('serializeError', () => {
  it('keeps only the names of what failed from a database error', () => {
    const err = Object.assign(new Error('new row for relation "passes" violates check constraint "c1"'), {
      name: 'QueryFailedError',
      query: 'INSERT INTO passes (data) VALUES ($1)',
      parameters: ['{"email":"ada@example.org"}'],
      driverError: { detail: 'Failing row contains (ada@example.org).' },
      detail: 'Failing row contains (ada@example.org).',
      where: 'SQL function at ada@example.org',
      code: '23514',
      constraint: 'c1',
      table: 'passes',
    });
    const s = serializeError(err);
    expect(s).toMatchObject({ code: '23514', constraint: 'c1', table: 'passes', query: err.query });
    expect(JSON.stringify(s)).not.toContain('ada@example.org');
    expect(s.parameters).toBeUndefined();
  });

  it('cuts the quoted input out of PostgreSQL messages that repeat it', () => {
    const err = Object.assign(new Error('invalid input syntax for type uuid: "jane.doe@example.org"'), {
      code: '22P02',
      severity: 'ERROR',
    });
    const s = serializeError(err);
    expect(s.message).toBe('invalid input syntax for type uuid: [value redacted]');
    expect(JSON.stringify(s)).not.toContain('jane.doe');
  });

  it('leaves other errors as pino writes them, without private keys', () => {
    const s = serializeError(
      new Error('bad -----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY----- here'),
    );
    expect(s.message).toBe('bad [redacted private key] here');
    expect(s.type).toBe('Error');
  });
});
