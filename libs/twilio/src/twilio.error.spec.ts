import { TWILIO_ERROR_CATALOG, TwilioError, TwilioErrors, isTwilioError } from './twilio.error';

describe('TwilioError', () => {
  it('renders the Twilio error body', () => {
    const error = TwilioErrors.notFound('/2010-04-01/Accounts/ACx.json');
    expect(error).toBeInstanceOf(TwilioError);
    expect(error).toBeInstanceOf(Error);
    expect(isTwilioError(error)).toBe(true);
    expect(error.toBody()).toEqual({
      code: 20404,
      message: 'The requested resource /2010-04-01/Accounts/ACx.json was not found',
      more_info: 'https://www.twilio.com/docs/errors/20404',
      status: 404,
    });
    expect(Object.keys(error.toBody()).sort()).toEqual(['code', 'message', 'more_info', 'status']);
  });

  it.each([
    ['invalidParameter', 400, 20002],
    ['unauthorized', 401, 20003],
    ['methodNotAllowed', 405, 20004],
    ['forbidden', 403, 20006],
    ['invalidPageSize', 400, 20007],
    ['notFound', 404, 20404],
    ['subaccountCannotCreateSubaccount', 400, 21101],
    ['invalidStatus', 400, 21475],
    ['parentSuspended', 400, 21476],
    ['cannotChangeOwnStatus', 400, 21477],
    ['accountClosed', 400, 21479],
    ['subaccountLimitReached', 400, 21480],
    ['invalidPageToken', 400, 21481],
    ['idempotencyKeyReused', 422, 20002],
    ['internal', 500, 20500],
    ['unavailable', 503, 20503],
  ] as const)('%s → %i / %i with a message', (kind, status, code) => {
    const error = TwilioErrors[kind]();
    expect(error.status).toBe(status);
    expect(error.code).toBe(code);
    expect(error.moreInfo).toBe(`https://www.twilio.com/docs/errors/${code}`);
    expect(error.message.length).toBeGreaterThan(0);
  });

  it('covers the whole catalog', () => {
    for (const kind of Object.keys(TWILIO_ERROR_CATALOG) as (keyof typeof TWILIO_ERROR_CATALOG)[]) {
      expect(TwilioErrors[kind]).toEqual(expect.any(Function));
    }
  });

  it('a 429 is 20429 and carries its Retry-After in whole seconds, at least 1', () => {
    expect(TwilioErrors.tooManyRequests(2.2)).toMatchObject({ status: 429, code: 20429, retryAfterS: 3 });
    expect(TwilioErrors.tooManyRequests(0).retryAfterS).toBe(1);
    expect(Object.keys(TwilioErrors.tooManyRequests(5).toBody()).sort()).toEqual(['code', 'message', 'more_info', 'status']);
  });

  it('keeps a caller-given message', () => {
    expect(TwilioErrors.unauthorized('Account is not active').toBody().message).toBe('Account is not active');
    expect(TwilioErrors.methodNotAllowed('delete').message).toContain('DELETE');
  });
});
