import { AccountEventType, type AccountEvent } from './account.events';
import { given, mainAccountCreated, ruleErrorOf, statusChanged, subaccountCreated } from './account.fixtures';
import { API_KEY_LIMIT, createApiKey, deleteApiKey, renameApiKey } from './api-key.decide';

const SK = (n: number) => 'SK' + n.toString(16).padStart(32, '0');
const created = (n: number, friendlyName: string | null = null): AccountEvent => ({
  type: AccountEventType.ApiKeyCreated,
  data: { keySid: SK(n), friendlyName, secretVerifier: 'v1.salt.hash' },
});

describe('API keys', () => {
  it('given an account, when a key is created, then ApiKeyCreated with a null name by default', () => {
    expect(createApiKey({ keySid: SK(1), secretVerifier: 'v' }, given(mainAccountCreated()))).toEqual([
      { type: AccountEventType.ApiKeyCreated, data: { keySid: SK(1), friendlyName: null, secretVerifier: 'v' } },
    ]);
  });

  it('names of 64 code points pass, 65 are refused', () => {
    const state = given(mainAccountCreated());
    expect(createApiKey({ keySid: SK(1), friendlyName: '😀'.repeat(64), secretVerifier: 'v' }, state)).toHaveLength(1);
    expect(ruleErrorOf(() => createApiKey({ keySid: SK(1), friendlyName: 'x'.repeat(65), secretVerifier: 'v' }, state)).reason).toBe('api_key_name_invalid');
  });

  it('the cap counts live keys: deleted ones free their place (refused beyond)', () => {
    const events = [mainAccountCreated(), ...Array.from({ length: API_KEY_LIMIT }, (_, i) => created(i))];
    expect(ruleErrorOf(() => createApiKey({ keySid: SK(999), secretVerifier: 'v' }, given(...events))).reason).toBe('api_key_limit');
    const freed = given(...events, { type: AccountEventType.ApiKeyDeleted, data: { keySid: SK(0), friendlyName: null } });
    expect(createApiKey({ keySid: SK(999), secretVerifier: 'v' }, freed)).toHaveLength(1);
  });

  it('a closed account gets no key', () => {
    const closed = given(subaccountCreated(), statusChanged('active', 'closed'));
    expect(ruleErrorOf(() => createApiKey({ keySid: SK(1), secretVerifier: 'v' }, closed)).reason).toBe('account_closed');
  });

  it('rename: an unknown key is refused, same name nothing, new name ApiKeyRenamed with the previous', () => {
    const state = given(mainAccountCreated(), created(1, 'a'));
    expect(ruleErrorOf(() => renameApiKey({ keySid: SK(2), friendlyName: 'b' }, state)).reason).toBe('api_key_not_found');
    expect(renameApiKey({ keySid: SK(1), friendlyName: 'a' }, state)).toEqual([]);
    expect(renameApiKey({ keySid: SK(1) }, state)).toEqual([]);
    expect(renameApiKey({ keySid: SK(1), friendlyName: 'b' }, state)).toEqual([
      { type: AccountEventType.ApiKeyRenamed, data: { keySid: SK(1), previous: 'a', friendlyName: 'b' } },
    ]);
  });

  it('delete: once, then not found; the account state keeps no deleted key and its date_updated does not move', () => {
    const state = given(mainAccountCreated(), created(1, 'a'));
    const events = deleteApiKey({ keySid: SK(1) }, state);
    expect(events).toEqual([{ type: AccountEventType.ApiKeyDeleted, data: { keySid: SK(1), friendlyName: 'a' } }]);
    const after = given(mainAccountCreated(), created(1, 'a'), ...events);
    expect(after?.apiKeys).toEqual({});
    expect(after?.version).toBe(3);
    expect(ruleErrorOf(() => deleteApiKey({ keySid: SK(1) }, after)).reason).toBe('api_key_not_found');
  });
});
