/** The authenticated account behind a request. */
export interface Caller {
  sid: string;
  isMain: boolean;
}

/** A main account reaches itself and its subaccounts; a subaccount only itself. */
export function canSee(caller: Caller, sid: string, ownerAccountSid: string): boolean {
  return caller.isMain ? ownerAccountSid === caller.sid : sid === caller.sid;
}
